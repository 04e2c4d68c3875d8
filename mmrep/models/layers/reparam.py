"""What the two families' layers share: the deploy state of a module with
a training and a deploy form, the kernel arithmetic of merging branches
(BN folding, zero-padding a small kernel into a large one), stochastic
depth and the checkpointed call."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath


class Reparameterizable:
    """A module with a training form and a deploy form. ``deployed`` is set
    where the module is built (``deploy=True`` builds the deploy form) and
    by :meth:`switch_to_deploy`, which merges once (``_merge``, with the BN
    running statistics: the module computes the same in eval mode)."""

    deployed = False

    @torch.no_grad()
    def switch_to_deploy(self):
        if not self.deployed:
            self._merge()
            self.train(self.training)  # new children take the mode too
            self.deployed = True

    def _merge(self):
        raise NotImplementedError


@torch.no_grad()
def bn_scale_shift(bn):
    """An eval-mode BN as ``x * scale + shift`` per channel:
    ``gamma / std`` and ``beta - mean * gamma / std``."""
    scale = bn.weight / (bn.running_var + bn.eps).sqrt()
    return scale, bn.bias - bn.running_mean * scale


@torch.no_grad()
def fold_bn(kernel, bn, bias=None):
    """The weight and bias of a conv or Linear (bias-free unless ``bias``)
    followed by an eval-mode BN, as one: ``kernel * gamma / std`` (per
    output channel) and ``beta + (bias - mean) * gamma / std``."""
    scale, shift = bn_scale_shift(bn)
    per_channel = scale.reshape(-1, *[1] * (kernel.dim() - 1))
    return (kernel * per_channel,
            shift if bias is None else shift + bias * scale)


def pad_kernel(kernel, size):
    """Zero-pad a centred (C, 1, k, k) kernel to (C, 1, size, size)."""
    pad = (size - kernel.shape[-1]) // 2
    return F.pad(kernel, [pad] * 4)


def stochastic_depth(rate):
    """Stochastic depth of ``rate``; nothing where it is 0."""
    return DropPath(rate) if rate > 0 else nn.Identity()


def checkpointed(fn, x, with_cp):
    """``fn(x)``; under ``with_cp`` while gradients are recorded, with
    non-reentrant gradient checkpointing (works under DDP and for inputs
    that need no gradient, e.g. after a frozen stem)."""
    if with_cp and torch.is_grad_enabled():
        return cp.checkpoint(fn, x, use_reentrant=False)
    return fn(x)
