"""Conv-BN(-ReLU) units with the official RepLKNet child names."""
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer

from mmrep.ops.onednn import frozen_cpu_inference
from .fused import fold_norms, foldable, fusable, fused_conv


class ConvBN(nn.Sequential):
    """``conv``, ``bn`` and optionally a ReLU ``nonlinear``: a Sequential
    (the official module names, so checkpoints load) that, in CPU inference,
    runs as one oneDNN conv with the BN folded in and the ReLU fused
    (:func:`fused_conv`), its weight reordered once.

    ``bn`` may be an eval-mode BN or Identity (after ``fuse_conv_bn``);
    another norm, or a ``conv`` that is not an ``nn.Conv2d`` (the large-kernel
    op), keeps the module-by-module forward.
    """

    def forward(self, x):
        if self.fusable(x):
            return self.fused(x)
        return super().forward(x)

    def fusable(self, x, *norms):
        """Whether :meth:`fused` runs on ``x`` (with ``norms`` folded in
        too)."""
        return self._folds(*norms) and fusable(x, self)

    def _folds(self, *norms):
        """Whether ``bn`` and ``norms`` fold into ``conv``."""
        return type(self.conv) is nn.Conv2d and all(
            foldable(n) for n in (self.bn, ) + norms)

    def after(self, pre, x):
        """``self(pre(x))``, ``pre`` a norm. In a graph that
        ``torch.compile`` traces for CPU inference with inductor's freezing
        (:func:`mmrep.apis.compile_for_cpu`), ``pre`` and ``bn`` are folded
        into the conv's weight in the graph, which freezing computes once:
        freezing folds a BN after a conv, not one before it (an unfolded
        ``pre`` is a pass over the map at every call)."""
        if not (frozen_cpu_inference(x, self) and self._folds(pre)):
            return self(pre(x))
        conv = self.conv
        weight, bias = fold_norms(conv.weight, conv.bias, pre, self.bn)
        out = F.conv2d(x, weight, bias, conv.stride, conv.padding,
                       conv.dilation, conv.groups)
        return self.nonlinear(out) if hasattr(self, 'nonlinear') else out

    def fused(self, x, pre=None, act=None, residual=None):
        """``conv-bn(-ReLU)(pre(x)) [+ residual]`` as one oneDNN conv;
        ``act`` (default: the unit's own ReLU or none) replaces the
        activation."""
        if act is None:
            act = 'relu' if hasattr(self, 'nonlinear') else 'none'
        return fused_conv(self, x, self.conv, pre=pre, post=self.bn,
                          act=act, residual=residual)


def conv_bn(in_channels, out_channels, kernel_size, stride=1, groups=1,
            norm_cfg=dict(type='BN'), act=False, conv=None):
    """A :class:`ConvBN` of ``conv`` (no bias), ``bn`` and, if ``act``, a
    ReLU called ``nonlinear`` - the official module names, so checkpoints
    load.

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
    unit = ConvBN()
    unit.add_module('conv', conv if conv is not None else nn.Conv2d(
        in_channels, out_channels, kernel_size, stride=stride,
        padding=kernel_size // 2, groups=groups, bias=False))
    unit.add_module('bn', build_norm_layer(norm_cfg, out_channels)[1])
    if act:
        unit.add_module('nonlinear', nn.ReLU())
    return unit
