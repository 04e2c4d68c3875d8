from .blocks import ConvFFN, RepLKBlock, RepLKNetStage
from .conv_bn import conv_bn, fuse_conv_bn
from .large_kernel_conv import ReparamLargeKernelConv

__all__ = ['conv_bn', 'fuse_conv_bn', 'ReparamLargeKernelConv', 'RepLKBlock',
           'ConvFFN', 'RepLKNetStage']
