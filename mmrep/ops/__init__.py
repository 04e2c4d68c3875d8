"""The large-kernel depthwise convolution (see ``dwconv.py``)."""
from .dispatch import ENV_CACHE, ENV_IMPL, Dispatcher
from .dwconv import (IMPLS, LargeKernelDWConv2d, check_impl,
                     check_kernel_size, depthwise_conv2d)
from .implementations import (DISPATCHER, IMPLEMENTATIONS, select_impl,
                              triton_available, triton_interpreter_available)
from .kernels import Kernels

__all__ = ['DISPATCHER', 'Dispatcher', 'ENV_CACHE', 'ENV_IMPL',
           'IMPLEMENTATIONS', 'IMPLS', 'Kernels', 'LargeKernelDWConv2d',
           'check_impl', 'check_kernel_size', 'depthwise_conv2d',
           'select_impl', 'triton_available',
           'triton_interpreter_available']
