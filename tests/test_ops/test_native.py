"""mmrep's AVX-512 large-kernel convolution (mmrep.ops.native): every path
it takes on this CPU against PyTorch's convolution in float64, its place in
compile_for_cpu's graphs, and the fallback where it cannot run."""
import contextlib

import pytest
import torch
import torch.nn.functional as F

from mmrep.models import RepLKNet, UniRepLKNet
from mmrep.ops import LargeKernelDWConv2d, compat, native, onednn
from ..helpers import TINY_ARCH, randomize_bn
from ..helpers.unireplknet import TINY_UNI_ARCH

needs_avx512 = pytest.mark.skipif(
    not native.cpu_supported(),
    reason='the kernel needs an AVX-512 CPU and torch >= 2.4')


def reference(x, weight, bias, relu):
    out = F.conv2d(x.double(), weight.double(), bias.double(),
                   padding=weight.shape[-1] // 2, groups=x.shape[1])
    return out.relu() if relu else out


def rel_err(a, b):
    return ((a.double() - b).norm() / b.norm()).item()


@needs_avx512
def test_the_kernel_builds_and_passes_its_own_check():
    assert native.load()
    assert native.self_check() == ''


@needs_avx512
@pytest.mark.parametrize('n, c, h, w, k', [
    (1, 16, 14, 14, 27),   # the map inside the kernel's reach (31B at 224)
    (1, 32, 7, 7, 13),     # kernel = 2 * map - 1
    (3, 48, 9, 20, 31),    # wider than a register block, kernel > map
    (2, 16, 33, 17, 5),    # small kernel, widths 17 = 9 + 8
    (1, 16, 1, 1, 3), (1, 16, 2, 40, 63)])
@pytest.mark.parametrize('relu', [False, True])
def test_every_path_matches_pytorchs_convolution(n, c, h, w, k, relu):
    assert native.load()
    torch.manual_seed(0)
    x = torch.randn(n, c, h, w)
    weight, bias = torch.randn(c, 1, k, k) / k, torch.randn(c)
    for dtype, pairs in native.layouts():
        xd = x.to(dtype).contiguous(memory_format=torch.channels_last)
        wd = weight.to(dtype)
        out = native.dwconv(xd, wd, bias, relu, pairs)
        assert out.dtype == dtype
        assert out.is_contiguous(memory_format=torch.channels_last)
        tol = 1e-6 if dtype == torch.float32 else 4e-3
        assert rel_err(out, reference(xd, wd, bias, relu)) < tol


@needs_avx512
def test_nans_and_infs_pass_through_as_in_pytorch():
    """A NaN or inf in the map reaches the outputs it touches, through
    the ReLU too."""
    assert native.load()
    x = torch.randn(1, 16, 9, 9)
    x[0, 3, 2, 2], x[0, 5, 0, 0] = float('nan'), float('inf')
    x[0, 7, 4, 6] = float('-inf')  # beside outputs it must not reach
    weight, bias = torch.rand(16, 1, 5, 5), torch.zeros(16)
    for dtype, pairs in native.layouts():
        xd = x.to(dtype).contiguous(memory_format=torch.channels_last)
        for relu in (False, True):
            out = native.dwconv(xd, weight.to(dtype), bias, relu, pairs)
            ref = reference(xd, weight.to(dtype), bias, relu)
            assert torch.equal(out.isnan(), ref.isnan())
            assert torch.equal(out.isinf(), ref.isinf())


@needs_avx512
def test_bad_tensors_are_refused_by_name():
    assert native.load()
    x = torch.randn(1, 16, 8, 8)
    weight = torch.randn(16, 1, 5, 5)
    with pytest.raises(RuntimeError, match='channels_last'):
        torch.ops.mmrep.dwconv2d_avx512(x, native.pack_weight(weight, x.dtype),
                                        torch.zeros(16), False)
    x = x.contiguous(memory_format=torch.channels_last)
    with pytest.raises(RuntimeError, match='pack_weight'):
        torch.ops.mmrep.dwconv2d_avx512(x, weight, torch.zeros(16), False)
    with pytest.raises(RuntimeError, match="x's dtype"):
        torch.ops.mmrep.dwconv2d_avx512(
            x, native.pack_weight(weight, torch.bfloat16, False),
            torch.zeros(16), False)


def backbones():
    torch.manual_seed(0)
    models = [RepLKNet(arch=TINY_ARCH),
              UniRepLKNet(arch=TINY_UNI_ARCH, init_cfg=None)]
    for m in models:
        randomize_bn(m)
        m.eval().switch_to_deploy()
    return models


def served_convs(model):
    """The large-kernel convs the kernel serves: channels a multiple of 16
    (the first stages, 8 channels, stay on oneDNN), kernels from
    MIN_KERNEL (UniRepLKNet's 3x3 too)."""
    return [m for m in model.modules() if isinstance(m, LargeKernelDWConv2d)
            and m.weight.shape[0] % native.LANES == 0
            and m.kernel_size[0] >= native.MIN_KERNEL]


def kernel_calls(graphs):
    return [n for gm in graphs for n in gm.graph.nodes
            if 'dwconv2d_avx512' in str(n.target)]


@needs_avx512
@pytest.mark.parametrize('autocast', [False, True])
def test_compile_for_cpu_graphs_call_the_kernel(autocast):
    """Each served conv is one call in compile_for_cpu's graphs, which
    compute what the module-by-module forward does; without
    ``native_dwconv``, in training and outside compile_for_cpu no graph
    calls it."""
    from mmrep.apis import compile_for_cpu
    x = torch.randn(1, 3, 64, 64)
    for model in backbones():
        expected = [o.detach() for o in model(x)]  # gradients: unfused
        for serve in (True, False):
            torch._dynamo.reset()
            with torch.no_grad(), torch.autocast('cpu', torch.bfloat16,
                                                 enabled=autocast):
                with onednn.frozen_graphs(), native.serving(serve):
                    graphs = torch._dynamo.explain(model)(x).graphs
                outs = compile_for_cpu(model, native_dwconv=serve)(x)
            calls = len(served_convs(model)) if serve else 0
            assert len(kernel_calls(graphs)) == calls
            assert calls > 0 or not serve
            for out, ref in zip(outs, expected):
                assert rel_err(out, ref.double()) < (2e-2 if autocast
                                                     else 1e-4)
    model = backbones()[0]
    for grad, frozen in ((True, True), (False, False)):
        torch._dynamo.reset()
        with torch.set_grad_enabled(grad), native.serving(True), \
                onednn.frozen_graphs() if frozen else contextlib.nullcontext():
            graphs = torch._dynamo.explain(model)(x).graphs
        assert not kernel_calls(graphs)
    torch._dynamo.reset()


@pytest.mark.parametrize('cause', [
    'cpu', pytest.param('build', marks=needs_avx512)])
def test_where_the_kernel_cannot_run_serving_stays_on_onednn_and_says_so(
        monkeypatch, cause):
    """A CPU without AVX-512, or a build that fails: compile_for_cpu's
    graphs call oneDNN, and the reason is logged once (by compat's notes
    on a torch without custom operators)."""
    from mmrep.apis import compile_for_cpu
    said = []
    monkeypatch.setattr(native, 'print_log',
                        lambda msg, logger: said.append(msg))
    monkeypatch.setattr(native, '_state', {})
    if cause == 'cpu':
        monkeypatch.setattr(native, 'cpu_supported', lambda: False)
    else:
        monkeypatch.setattr(native, '_SOURCE', '/nonexistent/dwconv.cpp')
    model = backbones()[0]
    x = torch.randn(1, 3, 64, 64)
    torch._dynamo.reset()
    compiled = compile_for_cpu(model)
    compile_for_cpu(model)
    assert not compiled.native_dwconv
    with torch.no_grad():
        with onednn.frozen_graphs(), native.serving(True):
            graphs = torch._dynamo.explain(model)(x).graphs
        compiled(x)
    torch._dynamo.reset()
    assert not kernel_calls(graphs)
    expected = ['AVX-512' if cause == 'cpu' else 'building'] \
        if compat.HAS_CUSTOM_OP else []
    assert [w for w in expected if w in ' '.join(said)] == expected
    assert len(said) == len(expected)
    assert all('oneDNN' in m for m in said)
