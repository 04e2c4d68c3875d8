"""Conv-BN(-ReLU) units with the official RepLKNet child names."""
import torch.nn as nn
from mmcv.cnn import build_norm_layer


def conv_bn(in_channels, out_channels, kernel_size, stride=1, groups=1,
            norm_cfg=dict(type='BN'), act=False, conv=None):
    """A ``Sequential`` of ``conv`` (no bias), ``bn`` and, if ``act``, a ReLU
    called ``nonlinear`` - the official module names, so checkpoints load.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Odd kernel size; padding keeps the size at stride 1.
        stride (int): Stride. Defaults to 1.
        groups (int): Convolution groups. Defaults to 1.
        norm_cfg (dict): Config of the norm layer. Defaults to BN.
        act (bool): Append a ReLU. Defaults to False.
        conv (nn.Module, optional): A ready conv to use instead of
            ``nn.Conv2d`` (the large-kernel op). Defaults to None.
    """
    unit = nn.Sequential()
    unit.add_module('conv', conv if conv is not None else nn.Conv2d(
        in_channels, out_channels, kernel_size, stride=stride,
        padding=kernel_size // 2, groups=groups, bias=False))
    unit.add_module('bn', build_norm_layer(norm_cfg, out_channels)[1])
    if act:
        unit.add_module('nonlinear', nn.ReLU())
    return unit
