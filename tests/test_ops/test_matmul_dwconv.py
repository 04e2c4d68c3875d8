"""Every implementation of depthwise_conv2d against a float64 F.conv2d
reference: forward, grad input, grad weight and grad bias."""
import pytest
import torch
import torch.nn.functional as F

from mmrep.ops import depthwise_conv2d
from mmrep.ops.matmul_dwconv import block_width

from ..helpers import needs_triton

DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'
TOL = {torch.float32: 1e-5, torch.bfloat16: 1e-2, torch.float16: 1e-2}
# (N, C, H, W, K, bias, channels_last): K in {3, 7, 13, 27, 31}, maps
# smaller than the kernel, odd sizes, W not a multiple of the row block.
CASES = [
    (2, 3, 37, 40, 3, True, False),
    (1, 2, 21, 45, 7, False, True),
    (2, 2, 9, 11, 13, True, True),
    (1, 3, 14, 14, 27, False, False),
    (1, 2, 5, 150, 31, True, False),
    (2, 2, 7, 7, 31, False, True),
]
IMPLS = ['torch', 'channels_last', 'rows', 'dense', 'triton']


def rel_err(value, reference):
    return ((value.double() - reference).norm() / reference.norm()).item()


def reference(x, weight, bias, grad_out):
    """float64 forward and gradients of the same (rounded) inputs."""
    leaves = [t.detach().double().requires_grad_() if t is not None else None
              for t in (x, weight, bias)]
    y = F.conv2d(*leaves, padding=weight.shape[-1] // 2, groups=x.shape[1])
    y.backward(grad_out.double())
    return [y.detach()] + [t.grad if t is not None else None for t in leaves]


def make_case(case, dtype):
    n, c, h, w, k, with_bias, channels_last = case
    gen = torch.Generator().manual_seed(n * c * h * w * k)
    make = lambda *s: torch.randn(*s, generator=gen).to(DEVICE, dtype)  # noqa
    x = make(n, c, h, w)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    weight, bias = make(c, 1, k, k), make(c) if with_bias else None
    return x, weight, bias, make(n, c, h, w)


def test_cases_cover_the_row_blocks():
    widths = [(c[3], c[4]) for c in CASES]
    multi = [(w, k) for w, k in widths if block_width(w, k) < w]
    assert any(w % block_width(w, k) for w, k in multi)  # a ragged block
    assert any(block_width(w, k) == w for w, k in widths)  # one block
    assert any(c[2] < c[4] for c in CASES)  # maps smaller than the kernel


def implementation_cases():
    """(case, dtype, impl) to check. Left out, each for a stated reason:
    - PyTorch's own convolution ('torch', 'channels_last') in
      bfloat16/float16 on the CPU: it is the baseline, not mmrep's code, and
      misses 1e-2 itself (its bf16 input gradient measured 1.7e-2 at K = 27
      and 31: partial sums are rounded);
    - the Triton kernels at K >= 27 in low precision or on the wide map
      when they run in the CPU interpreter (up to a minute per case); their
      float32 K = 27 and 31 cases stay, and on a GPU every case runs."""
    for case in CASES:
        for dtype in TOL:
            for impl in IMPLS:
                low = dtype != torch.float32
                if impl in ('torch', 'channels_last') and low and \
                        DEVICE == 'cpu':
                    continue
                if impl == 'triton' and DEVICE == 'cpu' and case[4] >= 27 \
                        and (low or case[3] > 100):
                    continue
                marks = needs_triton if impl == 'triton' else ()
                yield pytest.param(case, dtype, impl, marks=marks)


@pytest.mark.parametrize('case, dtype, impl', list(implementation_cases()),
                         ids=str)
def test_forward_and_gradients_match_float64(case, dtype, impl):
    x, weight, bias, grad_out = make_case(case, dtype)
    for t in (x, weight, bias):
        if t is not None:
            t.requires_grad_()
    y = depthwise_conv2d(x, weight, bias, impl=impl)
    assert y.dtype == dtype and y.shape == x.shape
    # the input's memory format comes back, as F.conv2d returns it
    fmt = torch.channels_last if case[-1] else torch.contiguous_format
    assert y.is_contiguous(memory_format=fmt)
    y.backward(grad_out)
    want = reference(x, weight, bias, grad_out)
    got = [y, x.grad, weight.grad, bias.grad if bias is not None else None]
    for name, g, r in zip(('y', 'dx', 'dw', 'db'), got, want):
        if r is None:
            continue
        assert g.dtype == dtype and g.shape == r.shape, name
        assert rel_err(g, r) < TOL[dtype], (name, rel_err(g, r))


@pytest.mark.parametrize('impl', ['rows', 'dense'])
def test_channels_last_in_channels_last_out(impl):
    x, weight, bias, _ = make_case(CASES[1], torch.float32)
    y = depthwise_conv2d(x, weight, bias, impl=impl)
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert not y.is_contiguous()


@pytest.mark.parametrize('impl', ['rows', 'dense', 'auto'])
def test_autocast_computes_in_the_autocast_dtype(impl):
    x, weight, bias, _ = make_case(CASES[2], torch.float32)
    with torch.autocast(DEVICE, dtype=torch.bfloat16):
        want = F.conv2d(x, weight, bias, padding=6, groups=x.shape[1])
        got = depthwise_conv2d(x, weight, bias, impl=impl)
    assert want.dtype == got.dtype == torch.bfloat16
    assert rel_err(got, want.double()) < 1e-2


def test_only_the_needed_gradients_are_computed():
    x, weight, bias, grad_out = make_case(CASES[0], torch.float32)
    weight.requires_grad_()
    for impl in ('rows', 'dense'):
        y = depthwise_conv2d(x, weight, None, impl=impl)
        (dw,) = torch.autograd.grad(y, weight, grad_out)
        want = reference(x, weight, None, grad_out)[2]
        assert rel_err(dw, want) < 1e-5
