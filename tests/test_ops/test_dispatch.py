"""Choosing the implementation, and bad arguments."""
import pytest
import torch

from mmrep.models import RepLKNet
from mmrep.ops import LargeKernelDWConv2d, depthwise_conv2d, select_impl

from ..conftest import TINY_ARCH


def test_auto_uses_pytorch_on_the_cpu():
    x, w = torch.randn(1, 2, 8, 8), torch.randn(2, 1, 7, 7)
    assert select_impl(x, w, 'auto') == 'torch'
    assert select_impl(x, w, 'torch') == 'torch'


def test_backbone_defaults_to_auto_in_every_large_kernel():
    model = RepLKNet(arch=TINY_ARCH)
    convs = [m for m in model.modules() if isinstance(m, LargeKernelDWConv2d)]
    assert len(convs) == 4 and all(m.impl == 'auto' for m in convs)
    # the official parameter names are unchanged
    assert 'stages.0.blocks.0.large_kernel.lkb_origin.conv.weight' in \
        model.state_dict()


@pytest.mark.parametrize('x, w, impl, match', [
    ((1, 2, 8, 8), (2, 1, 7, 7), 'cudnn', 'impl must be one of'),
    ((1, 2, 8, 8), (2, 1, 6, 6), 'torch', 'kernel size must be odd'),
    ((1, 2, 8, 8), (2, 1, 65, 65), 'torch', r'\[3, 63\]'),
    ((1, 3, 8, 8), (2, 1, 7, 7), 'torch', 'does not match'),
    ((2, 8, 8), (2, 1, 7, 7), 'torch', 'expects x'),
])
def test_bad_arguments(x, w, impl, match):
    with pytest.raises(ValueError, match=match):
        depthwise_conv2d(torch.randn(*x), torch.randn(*w), impl=impl)


def test_bad_backbone_impl():
    with pytest.raises(ValueError, match='large_kernel_impl must be one of'):
        RepLKNet(arch=TINY_ARCH, large_kernel_impl='cuda')
