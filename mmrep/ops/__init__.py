"""The large-kernel depthwise convolution (see ``dwconv.py``)."""
from .dwconv import (IMPLS, LargeKernelDWConv2d, depthwise_conv2d,
                     select_impl, triton_available)

__all__ = ['IMPLS', 'LargeKernelDWConv2d', 'depthwise_conv2d', 'select_impl',
           'triton_available']
