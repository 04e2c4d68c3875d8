from .blocks import ConvFFN, RepLKBlock, RepLKNetStage
from .conv_bn import conv_bn, fuse_conv_bn, fuse_conv_bn_units
from .large_kernel_conv import ReparamLargeKernelConv

__all__ = ['conv_bn', 'fuse_conv_bn', 'fuse_conv_bn_units', 'ReparamLargeKernelConv', 'RepLKBlock',
           'ConvFFN', 'RepLKNetStage']
