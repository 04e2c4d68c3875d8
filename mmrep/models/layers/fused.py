"""The layers' CPU inference path: a conv (or a Linear, as a 1x1 conv) with
the eval-mode BNs around it folded in, its activation and the residual
added after it fused, run as one oneDNN primitive whose weight is reordered
once (:mod:`mmrep.ops.onednn`). Folding is exact algebra; the sums are
oneDNN's, so results match the module-by-module forward to float
rounding."""
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmrep.ops.onednn import PackedConv, compute_dtype, cpu_inference, packed
from .reparam import bn_scale_shift, fold_bn


def foldable(norm):
    """Whether ``norm`` folds into a conv: Identity, or an affine BN that
    normalizes with running statistics (eval mode)."""
    return isinstance(norm, nn.Identity) or (
        isinstance(norm, _BatchNorm) and not norm.training and norm.affine
        and norm.running_mean is not None)


def fusable(x, owner, *norms):
    """Whether ``owner`` may run its fused path on ``x``: CPU inference and
    every norm to fold foldable."""
    return cpu_inference(x, owner) and all(foldable(n) for n in norms)


def _bn_tensors(norm):
    if isinstance(norm, _BatchNorm):
        return [norm.weight, norm.bias, norm.running_mean, norm.running_var]
    return []


def _fold_pre_bn(weight, bias, bn):
    """``conv(bn(x))`` of a 1x1 conv as one conv: the BN's per-input-channel
    scale multiplies the weight's columns, its shift adds ``W @ shift``."""
    if weight.shape[2:] != (1, 1):  # padding would see zeros, not shift
        raise ValueError(f'a BN before a conv folds into 1x1 convs only, '
                         f'got kernel {tuple(weight.shape[2:])}')
    scale, shift = bn_scale_shift(bn)
    w2d = weight.flatten(1)
    extra = w2d @ shift
    return (weight * scale.view(1, -1, 1, 1),
            extra if bias is None else bias + extra)


def fold_norms(weight, bias, pre=None, post=None):
    """The weight and bias of ``post(conv(pre(x)))`` as one conv (``pre``
    and ``post`` foldable norms or None)."""
    if isinstance(pre, _BatchNorm):
        weight, bias = _fold_pre_bn(weight, bias, pre)
    if isinstance(post, _BatchNorm):
        weight, bias = fold_bn(weight, post, bias)
    return weight, bias


@torch.no_grad()
def _pack(x, conv, weight, bias, pre, post, act):
    weight = weight.view(weight.shape[0], -1, *conv['kernel'])
    weight, bias = fold_norms(weight, bias, pre, post)
    return PackedConv(
        weight.to(x.dtype), None if bias is None else bias.to(x.dtype),
        conv['stride'], conv['padding'], conv['dilation'], conv['groups'],
        act, x.shape, keep_weight=False)


def conv_args(conv):
    """The geometry of an ``nn.Conv2d`` (or of an ``nn.Linear`` as a 1x1
    conv)."""
    if isinstance(conv, nn.Linear):
        return dict(kernel=(1, 1), stride=(1, 1), padding=(0, 0),
                    dilation=(1, 1), groups=1)
    return dict(kernel=conv.kernel_size, stride=conv.stride,
                padding=conv.padding, dilation=conv.dilation,
                groups=conv.groups)


def fused_conv(owner, x, conv, pre=None, post=None, act='none',
               residual=None):
    """``act(post(conv(pre(x)))) + residual`` in one oneDNN primitive
    (``act`` before the residual; the two are never both given).

    Args:
        owner (nn.Module): Holds the pack (one per owner).
        x (Tensor): (N, C, H, W), channels_last for oneDNN's fast path.
        conv (nn.Conv2d | nn.Linear): Its weight and bias; a Linear is a
            1x1 conv over channels.
        pre (nn.Module, optional): An eval BN before a 1x1 ``conv``.
        post (nn.Module, optional): An eval BN (or Identity) after it.
        act (str): 'none', 'relu' or 'gelu'.
        residual (Tensor, optional): Added to the result.
    """
    if act != 'none' and residual is not None:
        raise ValueError('fused_conv: an activation and a residual cannot '
                         'both be fused')
    x = x.to(compute_dtype(x))  # what F.conv2d computes in under autocast
    geometry = conv_args(conv)
    sources = [t for t in [conv.weight, conv.bias] + _bn_tensors(pre) +
               _bn_tensors(post) if t is not None]
    pack = packed(owner, sources, (act, x.dtype), x, lambda: _pack(
        x, geometry, conv.weight, conv.bias, pre, post, act))
    if residual is None:
        return pack(x)
    return pack.add(x, residual.to(x.dtype))


class InferenceConv2d(nn.Conv2d):
    """An ``nn.Conv2d`` (same parameters, same state dict) that runs
    :func:`fused_conv` in CPU inference."""

    def forward(self, x):
        if fusable(x, self):
            return fused_conv(self, x, self)
        return super().forward(x)
