from .blocks import ConvFFN, RepLKBlock, RepLKNetStage
from .conv_bn import conv_bn, fold_bn
from .large_kernel_conv import ReparamLargeKernelConv

__all__ = ['conv_bn', 'fold_bn', 'ReparamLargeKernelConv', 'RepLKBlock',
           'ConvFFN', 'RepLKNetStage']
