"""What is particular to the Triton kernels (their accuracy against float64
is in test_matmul_dwconv.py); on the CPU they run under TRITON_INTERPRET=1,
set in tests/conftest.py."""
import pytest
import torch
import torch.nn.functional as F

from mmrep.models import RepLKNet
from mmrep.ops import LargeKernelDWConv2d, depthwise_conv2d
from mmrep.ops import triton_dwconv

from ..helpers import TINY_ARCH, needs_triton

ON_GPU = torch.cuda.is_available()
DEVICE = 'cuda' if ON_GPU else 'cpu'
# (N, C, H, W, K): odd sizes, maps smaller than the kernel, several K.
SHAPES = [(2, 3, 9, 11, 7), (1, 2, 5, 4, 9), (2, 2, 3, 3, 3),
          (1, 3, 7, 13, 5), (1, 1, 6, 5, 13)]

pytestmark = needs_triton


def rel_err(value, reference):
    return ((value.double() - reference).norm() / reference.norm()).item()


@pytest.mark.parametrize('shape', SHAPES[:3], ids=str)
def test_every_output_element_is_written(shape):
    n, c, h, w, k = shape
    x = torch.randn(n, c, h, w, device=DEVICE)
    weight = torch.randn(c, 1, k, k, device=DEVICE)
    grad_out = torch.randn(n, c, h, w, device=DEVICE)
    poisoned = lambda t: torch.full_like(t, float('nan'))  # noqa
    y = triton_dwconv.dwconv_forward(x, weight, out=poisoned(x))
    dx = triton_dwconv.dwconv_grad_input(grad_out, weight, out=poisoned(x))
    dw = triton_dwconv.dwconv_grad_weight(x, grad_out, k,
                                          out=poisoned(weight))
    for t in (y, dx, dw):
        assert torch.isfinite(t).all()
    assert rel_err(y, F.conv2d(x.double(), weight.double(), padding=k // 2,
                               groups=c)) < 1e-5


def test_channels_last_input_is_accepted():
    x = torch.randn(2, 3, 8, 8, device=DEVICE).to(
        memory_format=torch.channels_last)
    weight = torch.randn(3, 1, 5, 5, device=DEVICE)
    y = depthwise_conv2d(x, weight, impl='triton')
    ref = F.conv2d(x.double(), weight.double(), padding=2, groups=3)
    assert rel_err(y, ref) < 1e-5


def test_backbone_runs_the_triton_kernels_like_pytorch():
    torch.manual_seed(0)
    arch = dict(TINY_ARCH, channels=[4, 8, 8, 8])
    torch_model = RepLKNet(arch=arch, large_kernel_impl='torch').eval()
    triton_model = RepLKNet(arch=arch, large_kernel_impl='triton').eval()
    triton_model.load_state_dict(torch_model.state_dict())
    x = torch.randn(1, 3, 32, 32)
    for a, b in zip(torch_model(x), triton_model(x)):
        assert rel_err(b, a.double()) < 1e-5
    # deploy form too
    triton_model.switch_to_deploy()
    lk = triton_model.stages[0].blocks[0].large_kernel.lkb_reparam
    assert isinstance(lk, LargeKernelDWConv2d) and lk.impl == 'triton'
    for a, b in zip(torch_model(x), triton_model(x)):
        assert rel_err(b, a.double()) < 1e-5
