"""The large-kernel depthwise convolution (see ``dwconv.py``)."""
from .dispatch import ENV_CACHE, ENV_IMPL, Dispatcher
from .dwconv import (DISPATCHER, IMPLS, LargeKernelDWConv2d, check_impl,
                     check_kernel_size, depthwise_conv2d, select_impl,
                     triton_available)

__all__ = ['DISPATCHER', 'Dispatcher', 'ENV_CACHE', 'ENV_IMPL', 'IMPLS',
           'LargeKernelDWConv2d', 'check_impl', 'check_kernel_size',
           'depthwise_conv2d',
           'select_impl', 'triton_available']
