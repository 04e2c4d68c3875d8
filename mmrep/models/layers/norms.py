"""The normalizations of UniRepLKNet: a channels-first LayerNorm and GRN,
with the official parameter names."""
import functools
import operator

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrep.ops.onednn import graph_capture


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of an (N, C, H, W) map (ConvNeXt's
    channels-first LayerNorm): mean and biased variance over C, then a
    per-channel affine ``weight`` and ``bias``.

    Args:
        channels (int): C.
        eps (float): Added to the variance. Defaults to 1e-6 (UniRepLKNet).
    """

    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x):
        if x.shape[1] > 1 and x.is_contiguous(
                memory_format=torch.channels_last):
            # (N, H, W, C) is contiguous: PyTorch's fused LayerNorm, same sums
            return F.layer_norm(x.permute(0, 2, 3, 1), self.weight.shape,
                                self.weight, self.bias,
                                self.eps).permute(0, 3, 1, 2)
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]

    def extra_repr(self):
        return f'{self.weight.shape[0]}, eps={self.eps}'


def _sum_of_squares(x, elements=1 << 20):
    """Each channel's sum of squares over (H, W) of an (N, H, W, C) map, in
    float32 or wider: the sums torch.norm makes, 7x faster on the CPU
    (1x14x14x1536). A large map is squared a slab of about ``elements`` at
    a time: one square of the whole map is a new map of its size, whose
    fresh pages cost more than the sum (float32 4x128x128x384: 51 ms
    against 9); a slab reuses the memory of the last. A captured graph
    keeps one product (compiled, it is one loop without the square)."""
    per_row = max(1, x.shape[0] * x.shape[2] * x.shape[3])  # 1: empty map
    rows = x.shape[1] if graph_capture() else max(1, elements // per_row)
    # float64 stays; torch 2.1's Dynamo cannot trace torch.promote_types
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    return functools.reduce(operator.add, [
        (slab * slab).sum(dim=(1, 2), keepdim=True).to(dtype)
        for slab in x.split(rows, dim=1)])


class GRN(nn.Module):
    """Global Response Normalization (ConvNeXt V2) on an (N, H, W, C) map:
    ``(gamma * N(x) + 1) * x + beta`` with ``N(x)`` each channel's L2 norm
    over (H, W) divided by the mean of those norms over the channels.

    Args:
        channels (int): C.
        use_bias (bool): Keep ``beta``; the deploy form moves it into the
            next Linear's bias. Defaults to True.
    """

    def __init__(self, channels, use_bias=True):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, channels))
        self.beta = (nn.Parameter(torch.zeros(1, 1, 1, channels))
                     if use_bias else None)

    def forward(self, x):
        if torch.is_grad_enabled():  # norm's backward is safe at zero
            g = torch.norm(x, p=2, dim=(1, 2), keepdim=True)
            x = self._scale(g) * x
        else:
            x = x * self._inference_scale(x)
        return x if self.beta is None else x + self.beta

    def scale_(self, x):
        """Inference without ``beta`` (the deploy form), ``x`` scaled in
        place."""
        if self.beta is not None:
            raise ValueError('GRN.scale_: beta is set; only the deploy form '
                             '(use_bias=False) scales in place')
        return x.mul_(self._inference_scale(x))

    def _inference_scale(self, x):
        # the scale in x's dtype (a bf16 map times the float32 scale would
        # be promoted and copied)
        return self._scale(_sum_of_squares(x).sqrt()).to(x.dtype)

    def _scale(self, g):
        return self.gamma * (g / (g.mean(dim=-1, keepdim=True) + 1e-6)) + 1


class ToChannelsLast(nn.Module):
    """(N, C, H, W) -> (N, H, W, C), a view for the Linear layers."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1)


class ToChannelsFirst(nn.Module):
    """(N, H, W, C) -> (N, C, H, W)."""

    def forward(self, x):
        return x.permute(0, 3, 1, 2)
