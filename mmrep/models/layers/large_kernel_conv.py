"""The re-parameterizable large-kernel depthwise convolution of RepLKNet."""
import torch.nn as nn

from mmrep.ops import LargeKernelDWConv2d
from .conv_bn import conv_bn
from .reparam import Reparameterizable, fold_bn, pad_kernel


class ReparamLargeKernelConv(Reparameterizable, nn.Module):
    """Depthwise KxK conv-BN plus a parallel small-kernel conv-BN, summed.

    In training form the module holds ``lkb_origin`` (KxK conv + BN) and,
    unless ``small_kernel`` is None, ``small_conv`` (kxk conv + BN).
    :meth:`switch_to_deploy` folds both BNs and pads the small kernel into the
    large one, leaving a single biased conv ``lkb_reparam`` that computes the
    same function in eval mode.

    Args:
        channels (int): Channels (the conv is depthwise).
        kernel_size (int): Odd large kernel size K.
        small_kernel (int | None): Odd small kernel size k <= K, or None.
        norm_cfg (dict): Config of the norm layers. Defaults to BN.
        deploy (bool): Build ``lkb_reparam`` directly. Defaults to False.
        impl (str): Implementation of the large-kernel conv: 'auto', 'torch',
            'channels_last', 'rows', 'dense' or 'triton' (see
            :mod:`mmrep.ops`). Defaults to 'auto'.
    """

    def __init__(self, channels, kernel_size, small_kernel,
                 norm_cfg=dict(type='BN'), deploy=False, impl='auto'):
        super().__init__()
        self.kernel_size = kernel_size
        self.small_kernel = small_kernel
        self.impl = impl
        self.deployed = deploy
        if deploy:
            self.lkb_reparam = self._depthwise(channels, kernel_size, bias=True)
            return
        self.lkb_origin = conv_bn(
            channels, channels, kernel_size, groups=channels,
            norm_cfg=norm_cfg,
            conv=self._depthwise(channels, kernel_size, bias=False))
        if small_kernel is not None:
            self.small_conv = conv_bn(
                channels, channels, small_kernel, groups=channels,
                norm_cfg=norm_cfg)

    def _depthwise(self, channels, kernel_size, bias):
        return LargeKernelDWConv2d(channels, kernel_size, bias=bias,
                                   impl=self.impl)

    def forward(self, x, relu=False):
        """The branches' sum, followed by a ReLU where ``relu`` (fused into
        the deploy form's convolution in CPU inference)."""
        if self.deployed:
            return self.lkb_reparam(x, relu=relu)
        out = self.lkb_origin(x)
        if self.small_kernel is not None:
            out = out + self.small_conv(x)
        return out.relu() if relu else out

    def equivalent_kernel_bias(self):
        """The kernel and bias of the single conv equal to this branch."""
        kernel, bias = fold_bn(self.lkb_origin.conv.weight,
                               self.lkb_origin.bn)
        if self.small_kernel is not None:
            small_kernel, small_bias = fold_bn(self.small_conv.conv.weight,
                                               self.small_conv.bn)
            kernel = kernel + pad_kernel(small_kernel, self.kernel_size)
            bias = bias + small_bias
        return kernel, bias

    def _merge(self):
        """Merge the branches into ``lkb_reparam``."""
        kernel, bias = self.equivalent_kernel_bias()
        conv = self._depthwise(kernel.shape[0], self.kernel_size, bias=True)
        conv.weight.copy_(kernel)
        conv.bias.copy_(bias)
        conv.to(kernel.device)
        self.lkb_reparam = conv
        del self.lkb_origin
        if self.small_kernel is not None:
            del self.small_conv
