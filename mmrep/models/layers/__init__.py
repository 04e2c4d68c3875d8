from .blocks import ConvFFN, RepLKBlock, RepLKNetStage
from .conv_bn import conv_bn
from .dilated_reparam import (DILATED_BRANCHES, DilatedReparamBlock,
                              dilate_kernel)
from .large_kernel_conv import ReparamLargeKernelConv
from .norms import GRN, LayerNorm2d
from .reparam import (Reparameterizable, checkpointed, fold_bn, pad_kernel,
                      stochastic_depth)
from .unireplknet_block import BLOCK_KERNELS, SEBlock, UniRepLKNetBlock

__all__ = ['conv_bn', 'fold_bn', 'ReparamLargeKernelConv', 'RepLKBlock',
           'ConvFFN', 'RepLKNetStage', 'DILATED_BRANCHES',
           'DilatedReparamBlock', 'dilate_kernel', 'GRN', 'LayerNorm2d',
           'BLOCK_KERNELS', 'SEBlock', 'UniRepLKNetBlock', 'Reparameterizable',
           'checkpointed', 'pad_kernel', 'stochastic_depth']
