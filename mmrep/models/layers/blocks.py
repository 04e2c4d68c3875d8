"""RepLKNet's two block types and the stage that alternates them."""
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from .conv_bn import conv_bn
from .large_kernel_conv import ReparamLargeKernelConv
from .reparam import checkpointed, stochastic_depth


class RepLKBlock(nn.Module):
    """BN -> 1x1 conv-BN-ReLU -> large-kernel DW conv -> ReLU -> 1x1 conv-BN,
    with a residual connection.

    Args:
        channels (int): Input and output channels C.
        dw_channels (int): Channels of the depthwise part (C * dw_ratio).
        kernel_size (int): Large kernel size.
        small_kernel (int | None): Parallel small kernel size, or None.
        drop_path (float): Stochastic depth rate.
        norm_cfg (dict): Config of the norm layers.
        deploy (bool): Build the re-parameterized large-kernel conv.
        impl (str): Large-kernel conv implementation (see :mod:`mmrep.ops`).
    """

    def __init__(self, channels, dw_channels, kernel_size, small_kernel,
                 drop_path=0., norm_cfg=dict(type='BN'), deploy=False,
                 impl='auto'):
        super().__init__()
        self.prelkb_bn = build_norm_layer(norm_cfg, channels)[1]
        self.pw1 = conv_bn(channels, dw_channels, 1, norm_cfg=norm_cfg,
                           act=True)
        self.large_kernel = ReparamLargeKernelConv(
            dw_channels, kernel_size, small_kernel, norm_cfg=norm_cfg,
            deploy=deploy, impl=impl)
        self.lk_nonlinear = nn.ReLU()
        self.pw2 = conv_bn(dw_channels, channels, 1, norm_cfg=norm_cfg)
        self.drop_path = stochastic_depth(drop_path)

    def forward(self, x):
        if self.pw1.fusable(x, self.prelkb_bn) and self.pw2.fusable(x):
            return self._fused_forward(x)
        out = self.pw1.after(self.prelkb_bn, x)
        out = self.lk_nonlinear(self.large_kernel(out))
        return x + self.drop_path(self.pw2(out))

    def _fused_forward(self, x):
        """CPU inference: ``prelkb_bn`` folded into ``pw1``, the ReLU
        ``lk_nonlinear`` into the large-kernel conv, the residual added
        inside ``pw2``'s conv (stochastic depth is off in eval)."""
        out = self.pw1.fused(x, pre=self.prelkb_bn)
        out = self.large_kernel(out, relu=True)
        return self.pw2.fused(out, residual=x)


class ConvFFN(nn.Module):
    """BN -> 1x1 conv-BN (C -> ratio*C) -> GELU -> 1x1 conv-BN, residual.

    Args:
        channels (int): Input and output channels C.
        hidden_channels (int): Hidden channels (C * ffn_ratio).
        drop_path (float): Stochastic depth rate.
        norm_cfg (dict): Config of the norm layers.
    """

    def __init__(self, channels, hidden_channels, drop_path=0.,
                 norm_cfg=dict(type='BN')):
        super().__init__()
        self.preffn_bn = build_norm_layer(norm_cfg, channels)[1]
        self.pw1 = conv_bn(channels, hidden_channels, 1, norm_cfg=norm_cfg)
        self.nonlinear = nn.GELU()
        self.pw2 = conv_bn(hidden_channels, channels, 1, norm_cfg=norm_cfg)
        self.drop_path = stochastic_depth(drop_path)

    def forward(self, x):
        if self.pw1.fusable(x, self.preffn_bn) and self.pw2.fusable(x):
            return self._fused_forward(x)
        out = self.nonlinear(self.pw1.after(self.preffn_bn, x))
        return x + self.drop_path(self.pw2(out))

    def _fused_forward(self, x):
        """CPU inference: ``preffn_bn`` folded into ``pw1`` and its GELU
        fused, the residual added inside ``pw2``'s conv."""
        out = self.pw1.fused(x, pre=self.preffn_bn, act='gelu')
        return self.pw2.fused(out, residual=x)


class RepLKNetStage(nn.Module):
    """One (RepLKBlock, ConvFFN) pair per drop-path rate, and an output norm.

    ``norm`` is applied only to the feature map handed to the heads (BN when
    ``norm_intermediate_features``, as RepLKNet-XL downstream; else Identity),
    not to the input of the next stage.

    Args:
        channels (int): Channels of the stage.
        kernel_size (int): Large kernel size of the stage.
        small_kernel (int | None): Small kernel size, or None.
        drop_path_rates (list[float]): One rate per block pair (their
            number is the stage's depth).
        dw_ratio (float): Depthwise channel ratio.
        ffn_ratio (float): ConvFFN hidden channel ratio.
        norm_cfg (dict): Config of the norm layers.
        with_cp (bool): Non-reentrant gradient checkpointing per block.
        norm_intermediate_features (bool): Use BN as the output norm.
        deploy (bool): Build the re-parameterized large-kernel convs.
        impl (str): Large-kernel conv implementation (see :mod:`mmrep.ops`).
    """

    def __init__(self, channels, kernel_size, small_kernel,
                 drop_path_rates, dw_ratio=1, ffn_ratio=4,
                 norm_cfg=dict(type='BN'), with_cp=False,
                 norm_intermediate_features=False, deploy=False,
                 impl='auto'):
        super().__init__()
        self.with_cp = with_cp
        blocks = []
        for rate in drop_path_rates:
            blocks.append(RepLKBlock(
                channels, int(channels * dw_ratio), kernel_size, small_kernel,
                rate, norm_cfg=norm_cfg, deploy=deploy, impl=impl))
            blocks.append(ConvFFN(
                channels, int(channels * ffn_ratio), rate, norm_cfg=norm_cfg))
        self.blocks = nn.ModuleList(blocks)
        self.norm = (build_norm_layer(norm_cfg, channels)[1]
                     if norm_intermediate_features else nn.Identity())

    def forward(self, x):
        for block in self.blocks:
            x = checkpointed(block, x, self.with_cp)
        return x
