"""UniRepLKNet's Dilated Reparam Block: a large depthwise kernel trained
next to dilated small kernels, merged into one kernel for deployment."""
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from mmrep.ops import LargeKernelDWConv2d
from .reparam import Reparameterizable, fold_bn, pad_kernel

# (kernel size, dilation) of the parallel branches for each large kernel
# size: the official defaults (UniRepLKNet repository, ``unireplknet.py``).
DILATED_BRANCHES = {
    7: ((5, 1), (3, 2), (3, 3)),
    9: ((5, 1), (5, 2), (3, 3), (3, 4)),
    11: ((5, 1), (5, 2), (3, 3), (3, 4), (3, 5)),
    13: ((5, 1), (7, 2), (3, 3), (3, 4), (3, 5)),
    15: ((5, 1), (7, 2), (3, 3), (3, 5), (3, 7)),
    17: ((5, 1), (9, 2), (3, 4), (3, 5), (3, 7)),
}


def dilate_kernel(kernel, dilation):
    """The non-dilated kernel equal to ``kernel`` (C, 1, k, k) applied with
    ``dilation`` r: size r * (k - 1) + 1, the taps r apart, zeros between."""
    c, _, k, _ = kernel.shape
    size = dilation * (k - 1) + 1
    out = kernel.new_zeros(c, 1, size, size)
    out[:, :, ::dilation, ::dilation] = kernel
    return out


class DilatedReparamBlock(Reparameterizable, nn.Module):
    """Depthwise KxK conv-BN plus dilated depthwise conv-BN branches, summed.

    Training form: ``lk_origin`` (KxK, through :mod:`mmrep.ops`) and
    ``origin_bn``, and for each branch (k, r) of :data:`DILATED_BRANCHES`
    ``dil_conv_k{k}_{r}`` (PyTorch's dilated depthwise conv) and
    ``dil_bn_k{k}_{r}`` - the official names. :meth:`switch_to_deploy`
    leaves one biased ``lk_origin`` computing the same function in eval mode.

    Args:
        channels (int): Channels (all convs are depthwise).
        kernel_size (int): K, a key of :data:`DILATED_BRANCHES`.
        norm_cfg (dict): Config of the BNs. Defaults to BN.
        deploy (bool): Build the merged form directly. Defaults to False.
        impl (str): Implementation of the KxK conv (see :mod:`mmrep.ops`).
            Defaults to 'auto'.
    """

    def __init__(self, channels, kernel_size, norm_cfg=dict(type='BN'),
                 deploy=False, impl='auto'):
        super().__init__()
        if kernel_size not in DILATED_BRANCHES:
            raise ValueError(
                f'DilatedReparamBlock: kernel_size must be one of '
                f'{sorted(DILATED_BRANCHES)}, got {kernel_size}')
        self.kernel_size = kernel_size
        self.branches = DILATED_BRANCHES[kernel_size]
        self.impl = impl
        self.deployed = deploy
        self.lk_origin = LargeKernelDWConv2d(channels, kernel_size,
                                             bias=deploy, impl=impl)
        if deploy:
            return
        self.origin_bn = build_norm_layer(norm_cfg, channels)[1]
        for k, r in self.branches:
            self.add_module(f'dil_conv_k{k}_{r}', nn.Conv2d(
                channels, channels, k, padding=(r * (k - 1) + 1) // 2,
                dilation=r, groups=channels, bias=False))
            self.add_module(f'dil_bn_k{k}_{r}',
                            build_norm_layer(norm_cfg, channels)[1])

    def _branch(self, k, r):
        return (getattr(self, f'dil_conv_k{k}_{r}'),
                getattr(self, f'dil_bn_k{k}_{r}'))

    def forward(self, x):
        if self.deployed:
            return self.lk_origin(x)
        out = self.origin_bn(self.lk_origin(x))
        for k, r in self.branches:
            conv, bn = self._branch(k, r)
            out = out + bn(conv(x))
        return out

    def equivalent_kernel_bias(self):
        """The (C, 1, K, K) kernel and (C, ) bias of the one conv equal to
        all branches (BN running statistics)."""
        kernel, bias = fold_bn(self.lk_origin.weight, self.origin_bn)
        for k, r in self.branches:
            conv, bn = self._branch(k, r)
            small, small_bias = fold_bn(conv.weight, bn)
            kernel = kernel + pad_kernel(dilate_kernel(small, r),
                                         self.kernel_size)
            bias = bias + small_bias
        return kernel, bias

    def _merge(self):
        """Merge the branches into a biased ``lk_origin``."""
        kernel, bias = self.equivalent_kernel_bias()
        conv = LargeKernelDWConv2d(kernel.shape[0], self.kernel_size,
                                   bias=True, impl=self.impl).to(kernel)
        conv.weight.copy_(kernel)
        conv.bias.copy_(bias)
        self.lk_origin = conv
        del self.origin_bn
        for k, r in self.branches:
            delattr(self, f'dil_conv_k{k}_{r}')
            delattr(self, f'dil_bn_k{k}_{r}')
