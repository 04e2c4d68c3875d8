"""Conv-BN(-ReLU) units with the official RepLKNet child names, and BN folding."""
import torch
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


@torch.no_grad()
def fuse_conv_bn(conv_weight, bn):
    """Fold an eval-mode BN into the preceding bias-free conv.

    Returns the kernel ``w * gamma / std`` and bias ``beta - mean * gamma / std``.
    """
    std = (bn.running_var + bn.eps).sqrt()
    scale = bn.weight / std
    return (conv_weight * scale.reshape(-1, 1, 1, 1),
            bn.bias - bn.running_mean * scale)


def _conv_with_bias(conv):
    """An empty copy of ``conv`` (same type and geometry) with a bias."""
    from mmrep.ops import LargeKernelDWConv2d
    if isinstance(conv, LargeKernelDWConv2d):
        return LargeKernelDWConv2d(conv.in_channels, conv.kernel_size[0],
                                   bias=True, impl=conv.impl)
    return nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                     stride=conv.stride, padding=conv.padding,
                     groups=conv.groups, bias=True)


@torch.no_grad()
def fuse_conv_bn_units(module):
    """Fold the BN of every ``conv``/``bn`` unit below ``module`` into its
    conv (which gains a bias); the ``bn`` child becomes Identity. Uses the
    BN running statistics. Returns the number of units fused."""
    count = 0
    for unit in module.modules():
        bn = getattr(unit, 'bn', None)
        if not isinstance(unit, nn.Sequential) or not isinstance(
                bn, nn.modules.batchnorm._BatchNorm):
            continue
        weight, bias = fuse_conv_bn(unit.conv.weight, bn)
        if unit.conv.bias is not None:
            bias = bias + unit.conv.bias * bn.weight / (
                bn.running_var + bn.eps).sqrt()
        fused = _conv_with_bias(unit.conv).to(weight.device)
        fused.weight.copy_(weight)
        fused.bias.copy_(bias)
        unit.conv, unit.bn = fused, nn.Identity()
        count += 1
    return count
