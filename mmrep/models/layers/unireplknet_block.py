"""UniRepLKNet's block (Ding et al., CVPR 2024) with the official module
names, and its re-parameterization into the deploy form."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer

from .dilated_reparam import DILATED_BRANCHES, DilatedReparamBlock
from .fused import InferenceConv2d, fusable, fused_conv
from .norms import GRN, ToChannelsFirst, ToChannelsLast
from .reparam import (Reparameterizable, checkpointed, fold_bn,
                      stochastic_depth)

# 3 and 5 are plain depthwise convs; the larger ones Dilated Reparam Blocks.
SMALL_KERNELS = (3, 5)
BLOCK_KERNELS = SMALL_KERNELS + tuple(sorted(DILATED_BRANCHES))


class SEBlock(nn.Module):
    """Squeeze-and-excitation: global average pool, 1x1 conv ``down``,
    ReLU, 1x1 conv ``up``, sigmoid, channel-wise product.

    Args:
        channels (int): Input and output channels.
        hidden (int): Channels of the bottleneck.
    """

    def __init__(self, channels, hidden):
        super().__init__()
        self.down = nn.Conv2d(channels, hidden, 1)
        self.up = nn.Conv2d(hidden, channels, 1)

    def forward(self, x):
        if fusable(x, self):
            return x * self.gate(x)
        w = F.relu(self.down(F.adaptive_avg_pool2d(x, 1)))
        return x * torch.sigmoid(self.up(w))

    def gate(self, x):
        """CPU inference: the (N, C, 1, 1) gate of ``x`` in ``x``'s dtype.
        The 1x1 convs of the pooled (N, C) vector run as matrix products in
        the weights' dtype, outside autocast (a oneDNN conv costs ~30 us a
        call at any size, a bf16 product of this size ~50 us against ~15).
        The pool is a sum (a bf16 mean converts the whole map to float32
        first; the sum accumulates in float32 without that copy)."""
        pooled = x.sum(dim=(2, 3)) / (x.shape[2] * x.shape[3])
        with torch.autocast('cpu', enabled=False):
            w = F.relu(F.linear(pooled.to(self.down.weight.dtype),
                                self.down.weight.flatten(1), self.down.bias))
            w = torch.sigmoid(F.linear(w, self.up.weight.flatten(1),
                                       self.up.bias))
        return w.to(x.dtype)[:, :, None, None]


class UniRepLKNetBlock(Reparameterizable, nn.Module):
    """``x + drop_path(gamma * pwconv2(act(pwconv1(se(norm(dwconv(x)))))))``.

    ``dwconv`` is a Dilated Reparam Block for kernels >= 7 and a plain
    depthwise conv for 3 and 5; ``norm`` a BN; ``pwconv1`` / ``pwconv2``
    Linears on channels-last maps with GELU + GRN between them; ``gamma``
    the layer scale. :meth:`switch_to_deploy` folds every BN, GRN's bias
    and the layer scale into the convs and Linears around them.

    Args:
        dim (int): Channels.
        kernel_size (int): One of :data:`BLOCK_KERNELS`.
        drop_path (float): Stochastic depth rate. Defaults to 0.
        layer_scale_init_value (float | None): Initial layer scale; None or
            0 disables it. Defaults to 1e-6.
        ffn_ratio (float): Hidden channels of the FFN over ``dim``.
            Defaults to 4.
        norm_cfg (dict): Config of the BNs. Defaults to BN.
        with_cp (bool): Non-reentrant gradient checkpointing. Defaults to
            False.
        deploy (bool): Build the re-parameterized form. Defaults to False.
        impl (str): Large-kernel conv implementation (see :mod:`mmrep.ops`).
            Defaults to 'auto'.
    """

    def __init__(self, dim, kernel_size, drop_path=0.,
                 layer_scale_init_value=1e-6, ffn_ratio=4,
                 norm_cfg=dict(type='BN'), with_cp=False, deploy=False,
                 impl='auto'):
        super().__init__()
        if kernel_size not in BLOCK_KERNELS:
            raise ValueError(f'UniRepLKNetBlock: kernel_size must be one of '
                             f'{BLOCK_KERNELS}, got {kernel_size}')
        self.with_cp = with_cp
        self.deployed = deploy
        if kernel_size in SMALL_KERNELS:
            self.dwconv = InferenceConv2d(dim, dim, kernel_size,
                                          padding=kernel_size // 2,
                                          groups=dim, bias=deploy)
        else:
            self.dwconv = DilatedReparamBlock(dim, kernel_size, norm_cfg,
                                              deploy=deploy, impl=impl)
        self.norm = (nn.Identity() if deploy else
                     build_norm_layer(norm_cfg, dim)[1])
        self.se = SEBlock(dim, dim // 4)
        hidden = int(ffn_ratio * dim)
        self.pwconv1 = nn.Sequential(ToChannelsLast(), nn.Linear(dim, hidden))
        self.act = nn.Sequential(nn.GELU(), GRN(hidden, use_bias=not deploy))
        if deploy:
            self.pwconv2 = nn.Sequential(nn.Linear(hidden, dim),
                                         ToChannelsFirst())
        else:
            self.pwconv2 = nn.Sequential(
                nn.Linear(hidden, dim, bias=False), ToChannelsFirst(),
                build_norm_layer(norm_cfg, dim)[1])
        self.gamma = (nn.Parameter(torch.full((dim, ),
                                              float(layer_scale_init_value)))
                      if layer_scale_init_value and not deploy else None)
        self.drop_path = stochastic_depth(drop_path)

    def residual(self, x):
        y = self.se(self.norm(self.dwconv(x)))
        y = self.pwconv2(self.act(self.pwconv1(y)))
        if self.gamma is not None:
            y = self.gamma.view(1, -1, 1, 1) * y
        return self.drop_path(y)

    def forward(self, x):
        if self.deployed and fusable(x, self):
            return self._fused_forward(x)
        return x + checkpointed(self.residual, x, self.with_cp)

    def _fused_forward(self, x):
        """CPU inference of the deploy form: the Linears as oneDNN 1x1
        convs on the channels_last map (no permuted copies), GELU fused
        into the first, the residual added inside the second. The SE and
        GRN products scale the block's own intermediate maps in place: a
        new map of that size costs more in fresh pages than the product
        (a float32 4x384x128x128 map: 37 ms against 4.4 in place)."""
        y = self.dwconv(x)
        y = y.mul_(self.se.gate(y))
        y = fused_conv(self.pwconv1, y, self.pwconv1[1], act='gelu')
        y = self.act[1].scale_(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return fused_conv(self.pwconv2, y, self.pwconv2[0], residual=x)

    def _merge(self):
        """Fold the block into its deploy form: the dilated branches and
        ``norm`` into one biased depthwise conv, GRN's ``beta`` and
        ``pwconv2``'s BN and the layer scale into one biased Linear."""
        self._fold_norm_into_dwconv()
        self._fold_into_pwconv2()

    def _fold_norm_into_dwconv(self):
        if isinstance(self.dwconv, DilatedReparamBlock):
            self.dwconv.switch_to_deploy()
            conv = self.dwconv.lk_origin
            weight, bias = fold_bn(conv.weight, self.norm, conv.bias)
        else:  # bias-free: a new biased conv, built with keyword arguments
            old = self.dwconv
            weight, bias = fold_bn(old.weight, self.norm)
            conv = InferenceConv2d(old.in_channels, old.out_channels,
                                   old.kernel_size, padding=old.padding,
                                   groups=old.groups, bias=True).to(old.weight)
            self.dwconv = conv
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
        self.norm = nn.Identity()

    def _fold_into_pwconv2(self):
        linear, _, bn = self.pwconv2
        grn = self.act[1]
        # the Linear sees (gamma * N + 1) * x + beta: beta adds W @ beta
        weight, bias = fold_bn(linear.weight, bn,
                               linear.weight @ grn.beta.view(-1))
        grn.beta = None
        new = nn.Linear(linear.in_features, linear.out_features).to(
            linear.weight)
        if self.gamma is not None:  # the layer scale, per output channel
            weight, bias = weight * self.gamma[:, None], bias * self.gamma
        new.weight.copy_(weight)
        new.bias.copy_(bias)
        self.pwconv2 = nn.Sequential(new, ToChannelsFirst())
        self.gamma = None
