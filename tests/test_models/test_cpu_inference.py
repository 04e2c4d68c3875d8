"""CPU inference through oneDNN's fused convolution (mmrep.ops.onednn,
mmrep.models.layers.fused): the same function as the module-by-module
forward, taken only for inference, packs renewed when weights change, and
the module-by-module forward wherever oneDNN is off."""
import contextlib
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrep.models import RepLKNet, UniRepLKNet
from mmrep.models.layers import ConvFFN, RepLKBlock, UniRepLKNetBlock
from mmrep.models.layers.fused import InferenceConv2d, fused_conv
from mmrep.models.layers.unireplknet_block import SEBlock
from mmrep.ops import LargeKernelDWConv2d, compat, heap, onednn, select_impl
from mmrep.ops.implementations import ONEDNN_IMPLS
from ..helpers import TINY_ARCH, randomize_bn
from ..helpers.unireplknet import TINY_UNI_ARCH


def rel_err(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def backbones():
    torch.manual_seed(0)
    models = [RepLKNet(arch=TINY_ARCH), RepLKNet(arch=TINY_ARCH),
              UniRepLKNet(arch=TINY_UNI_ARCH, init_cfg=None)]
    for m in models:
        randomize_bn(m)
        m.eval()
    models[1].switch_to_deploy()
    models[2] = [models[2], copy.deepcopy(models[2]).switch_to_deploy()]
    return [models[0], models[1]] + models[2]


def reference(model, x):
    """The module-by-module forward: gradients recorded turn the fused
    path off."""
    return [o.detach() for o in model(x)]


def packed_modules(model):
    return [m for m in model.modules() if m in onednn._PACKS]


@pytest.mark.parametrize('index', range(4))
def test_fused_inference_computes_the_module_by_module_function(index):
    model = backbones()[index]
    x = torch.randn(2, 3, 72, 56)
    expected = reference(model, x)
    assert not packed_modules(model)
    with torch.no_grad():
        outs = model(x)
    assert packed_modules(model)  # the fused path ran
    for out, ref in zip(outs, expected):
        assert out.shape == ref.shape and out.dtype == torch.float32
        assert out.is_contiguous()  # the caller's layout
        assert rel_err(out, ref) < 1e-5


def test_bn_fused_deploy_form():
    """``tools/deploy/reparameterize.py --fuse-conv-bn``'s form: biased
    convs, Identity BNs (the pre-BNs of the blocks stay)."""
    from mmcv.cnn import fuse_conv_bn
    model = backbones()[1]
    fused = fuse_conv_bn(copy.deepcopy(model))
    target = RepLKNet(arch=TINY_ARCH, deploy=True, bn_fused=True).eval()
    target.load_state_dict(fused.state_dict())
    x = torch.randn(1, 3, 64, 64)
    expected = reference(model, x)
    with torch.no_grad():
        outs = target(x)
    assert target.stem[0] in onednn._PACKS
    for out, ref in zip(outs, expected):
        assert rel_err(out, ref) < 1e-5


def test_every_block_takes_its_fused_path():
    """With the large-kernel op on oneDNN ('auto' may choose another
    implementation at these tiny sizes; see the op's test below)."""
    rep = RepLKNet(arch=TINY_ARCH, deploy=True,
                   large_kernel_impl='channels_last').eval()
    uni = UniRepLKNet(arch=TINY_UNI_ARCH, deploy=True, init_cfg=None,
                      large_kernel_impl='channels_last').eval()
    se_convs = []  # SE's 1x1 convs run as matrix products of its vector
    for m in uni.modules():
        if isinstance(m, SEBlock):
            for conv in (m.down, m.up):
                conv.register_forward_hook(lambda *_: se_convs.append(1))
    with torch.no_grad():
        rep(torch.randn(1, 3, 64, 64))
        uni(torch.randn(1, 3, 64, 64))
    assert not se_convs
    packs = set(packed_modules(rep) + packed_modules(uni))
    for block in rep.modules():
        if isinstance(block, (RepLKBlock, ConvFFN)):
            assert block.pw1 in packs and block.pw2 in packs
        if isinstance(block, RepLKBlock):
            assert block.large_kernel.lkb_reparam in packs
    for block in uni.modules():
        if isinstance(block, UniRepLKNetBlock):
            assert block.pwconv1 in packs and block.pwconv2 in packs
            assert getattr(block.dwconv, 'lk_origin', block.dwconv) in packs
    assert all(m in packs for m in uni.modules()
               if isinstance(m, InferenceConv2d))


def test_training_and_recorded_gradients_never_take_the_fused_path():
    model = backbones()[1]
    x = torch.randn(1, 3, 64, 64)
    model(x)[-1].sum().backward()  # eval, gradients recorded
    assert model.stem[0].conv.weight.grad is not None
    model.train()
    with torch.no_grad():
        model(x)
    assert not packed_modules(model)


def test_packs_follow_new_weights():
    model = backbones()[1]
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        model(x)
    other = RepLKNet(arch=TINY_ARCH, deploy=True)
    randomize_bn(other, seed=5)
    model.load_state_dict(other.state_dict())  # copied in place
    expected = reference(model, x)
    with torch.no_grad():
        outs = model(x)
    for out, ref in zip(outs, expected):
        assert rel_err(out, ref) < 1e-5


# 4096 -> 1024 (RepLKNet-31B's last FFN) at 1x7x7, 2x7x7, 1x10x10 and 7x7
# again: on AVX-512 oneDNN lays the weight out three ways for these
SIZES = [(1, 7, 7), (2, 7, 7), (1, 10, 10), (1, 7, 7), (2, 10, 10)]


def pack_at(owner, weight, size):
    x = torch.randn(size[0], weight.shape[1], *size[1:]).contiguous(
        memory_format=torch.channels_last)
    pack = onednn.packed(owner, [weight], 'test', x, lambda: onednn.PackedConv(
        weight, None, (1, 1), (0, 0), (1, 1), 1, 'none', x.shape))
    y = pack(x)
    assert rel_err(y, F.conv2d(x.double(), weight.double())) < 1e-5
    return pack


def fresh_layout(weight, size):
    packed = torch.ops.mkldnn._reorder_convolution_weight(
        weight, [0, 0], [1, 1], [1, 1], 1, [size[0], weight.shape[1],
                                            *size[1:]])
    return onednn._weight_bytes(packed).clone()  # a view while it lives


@pytest.mark.skipif(not compat.HAS_ONEDNN_BYTES,
                    reason='torch < 2.4 cannot read oneDNN tensors\' bytes '
                    '(test_packs_per_size_without_onednn_bytes covers it)')
def test_each_input_size_gets_the_weight_layout_onednn_picks_for_it():
    """A pack laid out for one size, used at another, would have oneDNN
    reorder the weight at each call; sizes whose layouts agree share a
    pack (one weight copy)."""
    owner, weight = nn.Module(), torch.randn(1024, 4096, 1, 1)
    packs = {size: pack_at(owner, weight, size) for size in SIZES}
    layouts = {size: fresh_layout(weight, size) for size in SIZES}
    for size, pack in packs.items():
        assert torch.equal(onednn._weight_bytes(pack.packed_weight),
                           layouts[size])
        for other in SIZES:
            assert (packs[other] is pack) == torch.equal(layouts[other],
                                                         layouts[size])
    distinct = {id(p) for p in packs.values()}
    assert len(onednn._PACKS[owner].layouts) == len(distinct)


def test_packs_per_size_without_onednn_bytes(monkeypatch):
    """A torch that cannot compare layouts keeps a pack per input size, the
    last ``MAX_LAYOUTS`` of them."""
    monkeypatch.setattr(onednn.compat, 'HAS_ONEDNN_BYTES', False)
    monkeypatch.setattr(onednn.LayerPacks, 'MAX_LAYOUTS', 2)
    owner, weight = nn.Module(), torch.randn(16, 8, 1, 1)
    first = pack_at(owner, weight, (1, 5, 5))
    assert pack_at(owner, weight, (1, 5, 5)) is first
    assert pack_at(owner, weight, (2, 5, 5)) is not first
    pack_at(owner, weight, (1, 6, 6))  # a third size drops the first
    held = onednn._PACKS[owner]
    assert len(held.layouts) == 2 and first not in held.layouts
    assert set(held.by_size) == {((2, 8, 5, 5), torch.get_num_threads()),
                                 ((1, 8, 6, 6), torch.get_num_threads())}
    assert pack_at(owner, weight, (1, 5, 5)) is not first  # made again


def test_a_backbone_alternating_batch_sizes():
    model = backbones()[1]
    for batch in (1, 3, 1):
        x = torch.randn(batch, 3, 64, 64)
        expected = reference(model, x)
        with torch.no_grad():
            for out, ref in zip(model(x), expected):
                assert rel_err(out, ref) < 1e-5
    sizes = {size[0][0] for packs in onednn._PACKS.values()
             for size in packs.by_size}
    assert sizes == {1, 3}


def test_an_empty_batch_measures_nothing(monkeypatch):
    from mmrep.ops.implementations import DISPATCHER
    model = backbones()[1]
    monkeypatch.setattr(DISPATCHER, 'choose', lambda *a, **k: pytest.fail(
        'an empty input reached the dispatcher'))
    with torch.no_grad():
        outs = model(torch.randn(0, 3, 64, 64))
    assert [o.shape[:2] for o in outs] == [
        (0, c) for c in TINY_ARCH['channels']]
    uni = backbones()[3]  # UniRepLKNet's deploy form: GRN sums nothing
    with torch.no_grad():
        outs = uni(torch.randn(0, 3, 64, 64))
    assert [o.shape[:2] for o in outs] == [
        (0, c) for c in TINY_UNI_ARCH['dims']]


def test_inference_mode_forward_and_weights_made_in_it():
    for model in backbones()[::2]:
        x = torch.randn(1, 3, 64, 64)
        expected = reference(model, x)
        with torch.inference_mode():
            for out, ref in zip(model(x), expected):
                assert rel_err(out, ref) < 1e-5
            model.switch_to_deploy()  # the merged weights: inference tensors
            for out, ref in zip(model(x), expected):
                assert rel_err(out, ref) < 1e-5


def test_bfloat16_autocast_computes_in_bfloat16():
    for model in backbones()[1::2]:
        x = torch.randn(1, 3, 64, 64)
        expected = reference(model, x)
        with torch.no_grad(), torch.autocast('cpu', torch.bfloat16):
            outs = model(x)
        for out, ref in zip(outs, expected):
            assert out.dtype == torch.bfloat16
            assert rel_err(out, ref) < 5e-2


def test_without_onednn_the_module_by_module_forward_runs():
    for model in backbones():
        x = torch.randn(1, 3, 64, 64)
        with torch.backends.mkldnn.flags(enabled=False):
            assert not onednn.cpu_inference(x, model)
            expected = reference(model, x)
            with torch.no_grad():
                outs = model(x)
        assert not packed_modules(model)
        for out, ref in zip(outs, expected):  # 'auto' may pick differently
            assert rel_err(out, ref) < 1e-5  # for training and inference


def test_graph_capture_sees_pytorchs_ops():
    model = backbones()[1]
    with torch.no_grad():
        traced = torch.jit.trace(model, torch.randn(1, 3, 64, 64),
                                 check_trace=False)
    nodes = {n.kind() for n in traced.inlined_graph.nodes()}
    assert not any('mkldnn' in kind for kind in nodes)
    assert not packed_modules(model)


@pytest.mark.parametrize('relu', [False, True])
@pytest.mark.parametrize('impl', ['auto', 'torch', 'channels_last', 'rows'])
def test_large_kernel_op_calls_onednn_directly_for_onednn_choices(
        impl, relu):
    conv = LargeKernelDWConv2d(16, 13, bias=True, impl=impl).eval()
    x = torch.randn(2, 16, 30, 20).contiguous(
        memory_format=torch.channels_last)
    with torch.no_grad():
        conv(x, relu=relu)  # 'auto' decides here
        chosen = select_impl(x, conv.weight, conv.bias, impl, training=False)
        with torch.profiler.profile() as prof:
            y = conv(x, relu=relu)
        expected = F.conv2d(x.double(), conv.weight.double(),
                            conv.bias.double(), padding=6, groups=16)
    if relu:
        expected = expected.relu()
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert rel_err(y, expected) < 1e-6
    names = {e.name for e in prof.events()}
    direct = 'mkldnn::_convolution_pointwise' in names
    assert direct == (chosen in ONEDNN_IMPLS)
    if impl != 'auto':
        assert direct == (impl != 'rows')
    # oneDNN runs the ReLU inside its primitive; the others after it
    assert ('aten::relu' in names) == (relu and not direct)


def test_fused_conv_folds_bns_and_fuses_the_epilogue():
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 12, 1)
    pre, post = nn.BatchNorm2d(8), nn.BatchNorm2d(12)
    for bn in (pre, post):
        randomize_bn(bn)
    owner = nn.Sequential(conv, pre, post).eval()
    x = torch.randn(2, 8, 9, 7).contiguous(memory_format=torch.channels_last)
    residual = torch.randn(2, 12, 9, 7)
    with torch.no_grad():
        y = fused_conv(owner, x, conv, pre=pre, post=post, act='gelu')
        expected = F.gelu(post(conv(pre(x))))
        assert rel_err(y, expected) < 1e-5
        y = fused_conv(owner, x, conv, pre=pre, post=post,
                       residual=residual)
        assert rel_err(y, post(conv(pre(x))) + residual) < 1e-5
        with pytest.raises(ValueError, match='activation and a residual'):
            fused_conv(owner, x, conv, act='relu', residual=residual)
        wide = nn.Conv2d(8, 12, 3, padding=1).eval()
        with pytest.raises(ValueError, match='1x1 convs only'):
            fused_conv(wide, x, wide, pre=pre)


def test_grn_inference_sums_in_slabs_and_scales_in_place():
    """GRN without gradients: the sums of squares slab by slab (here 3 and
    7 rows of 9) equal the whole map's; ``scale_`` is the deploy form's
    forward, written into its input."""
    from mmrep.models.layers import GRN
    from mmrep.models.layers.norms import _sum_of_squares
    torch.manual_seed(0)
    x = torch.randn(2, 9, 5, 6, dtype=torch.float64)
    whole = (x * x).sum(dim=(1, 2), keepdim=True)
    for elements in (2 * 3 * 5, 2 * 7 * 5):
        assert rel_err(_sum_of_squares(x, elements), whole) < 1e-12
    grn = GRN(6, use_bias=False).double()
    nn.init.normal_(grn.gamma)
    with torch.no_grad():
        expected = grn(x)
        y = x.clone()
        out = grn.scale_(y)
    assert out is y and rel_err(y, expected) < 1e-12
    with torch.enable_grad():  # the training form: torch.norm
        assert rel_err(grn(x), expected) < 1e-12
    with pytest.raises(ValueError, match='deploy form'):
        GRN(6).scale_(x)


def test_fused_blocks_leave_their_input_unchanged():
    """The in-place SE and GRN products touch the block's own maps only."""
    model = backbones()[3]  # UniRepLKNet, deploy form
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        stem = model.downsample_layers[0](x).contiguous(
            memory_format=torch.channels_last)
        before = stem.clone()
        block = model.stages[0][0]
        expected = stem + block.residual(stem)
        out = block(stem)
    assert torch.equal(stem, before)
    assert block.pwconv2 in onednn._PACKS  # the fused path ran
    assert rel_err(out, expected) < 1e-5


def test_switch_to_deploy_keeps_the_eval_mode():
    model = backbones()[0]
    model.switch_to_deploy()
    assert not any(m.training for m in model.modules())


def nodes(graphs):
    return [node for gm in graphs for node in gm.graph.nodes]


def test_compile_for_cpu_compiles_one_channels_last_graph():
    """One graph, its input made channels_last, the large kernels PyTorch's
    convolution (inductor runs it on oneDNN), outputs as in eager mode."""
    from mmrep.apis import compile_for_cpu
    torch._dynamo.reset()
    x = torch.randn(1, 3, 64, 64)
    for model in backbones()[1::2]:  # the deploy forms, 'auto'
        expected = reference(model, x)
        with torch.no_grad():
            explained = torch._dynamo.explain(model)(x)
            assert explained.graph_break_count == 0, explained.break_reasons
            graph = nodes(explained.graphs)
            assert any(n.kwargs.get('memory_format') is torch.channels_last
                       for n in graph)
            assert not any('mmrep' in str(n.target) for n in graph)
            outs = compile_for_cpu(model)(x)
        for out, ref in zip(outs, expected):
            assert out.is_contiguous()  # the caller's layout
            assert rel_err(out, ref) < 1e-4
    assert not torch._inductor.config.freezing  # on for those calls only
    torch._dynamo.reset()
    with pytest.raises(ValueError, match=r'model.eval\(\)'):
        compile_for_cpu(RepLKNet(arch=TINY_ARCH))


def test_compile_for_cpu_guards_each_calls_inputs_not_the_modules(
        monkeypatch):
    """Dynamo checks each call's inputs and global state, so a new size or
    autocast still gets its own graph, but not the model's modules (their
    weights are frozen into the graph anyway); a torch without
    guard_filter_fn (< 2.8) keeps every guard and says so once."""
    from mmrep.apis import compile_for_cpu, deploy
    if not compat.HAS_GUARD_FILTER:
        said = []
        monkeypatch.setattr(compat, '_noted', [])
        monkeypatch.setattr(compat, 'print_log',
                            lambda msg, logger: said.append(msg))
        assert deploy._serving_guards() == deploy._serving_guards() == {}
        assert len([m for m in said if 'guard_filter_fn' in m]) == 1
        return
    drop = torch.compiler.skip_guard_on_all_nn_modules_unsafe
    seen = []

    def recording(entries):
        kept = drop(entries)
        seen.extend(zip(entries, kept))
        return kept

    monkeypatch.setattr(torch.compiler, 'skip_guard_on_all_nn_modules_unsafe',
                        recording)
    torch._dynamo.reset()
    model = backbones()[1]
    compiled = compile_for_cpu(model)
    for shape, dtype in [((1, 3, 64, 64), None), ((1, 3, 64, 96), None),
                         ((1, 3, 64, 64), torch.bfloat16)]:
        x = torch.randn(shape)
        expected = reference(model, x)
        with torch.no_grad(), torch.autocast(
                'cpu', dtype or torch.bfloat16, enabled=dtype is not None):
            outs = compiled(x)
        for out, ref in zip(outs, expected):
            assert out.dtype == (dtype or torch.float32)
            assert rel_err(out, ref) < (2e-2 if dtype else 1e-4)
    torch._dynamo.reset()
    parameters = set(map(id, model.parameters()))
    dropped = [e for e, kept in seen if not kept]
    kept = [e for e, kept in seen if kept]
    assert any(id(e.value) in parameters for e in dropped)
    assert not any(id(e.value) in parameters for e in kept)
    assert {'TENSOR_MATCH', 'GLOBAL_STATE'} <= {e.guard_type for e in kept}


@pytest.mark.parametrize('preload', ['', '/usr/lib/libtcmalloc.so.4'])
def test_compile_for_cpu_says_once_what_a_faster_malloc_saves(
        monkeypatch, preload):
    """On glibc's malloc the hint comes once per process; a process with
    an allocator preloaded hears nothing."""
    from mmrep.apis import compile_for_cpu, deploy
    said = []
    monkeypatch.setenv('LD_PRELOAD', preload)
    monkeypatch.setattr(deploy, '_malloc_hinted', [])
    monkeypatch.setattr(deploy, 'print_log',
                        lambda msg, logger: said.append(msg))
    model = backbones()[1]
    compile_for_cpu(model), compile_for_cpu(model)
    expected = 0 if preload or not heap.on_glibc() else 1
    assert len([m for m in said if 'LD_PRELOAD' in m]) == expected


def batch_norms(graphs):
    """The BN calls of Dynamo's graphs: functions where Dynamo inlines the
    modules (torch >= 2.4 by default), modules where it does not."""
    return [n for gm in graphs for n in gm.graph.nodes
            if 'batch_norm' in str(n.target) or n.op == 'call_module'
            and isinstance(gm.get_submodule(n.target), nn.BatchNorm2d)]


def test_compiling_with_freezing_folds_the_bns_around_the_first_convs():
    """In graphs that inductor freezes (compile_for_cpu), the BN before each
    block's first 1x1 conv and that conv's own BN fold into its weight in
    the graph (freezing makes it a constant); a plain torch.compile keeps
    them (it would refold the weights at every call)."""
    model = backbones()[1]
    blocks = [m for m in model.modules()
              if isinstance(m, (RepLKBlock, ConvFFN))]
    x = torch.randn(1, 3, 64, 64)
    counts = []
    with torch.no_grad():
        for frozen in (contextlib.nullcontext(), onednn.frozen_graphs()):
            torch._dynamo.reset()
            with frozen:
                explained = torch._dynamo.explain(model)(x)
            assert explained.graph_break_count == 0, explained.break_reasons
            counts.append(len(batch_norms(explained.graphs)))
    torch._dynamo.reset()
    assert counts[0] - counts[1] == 2 * len(blocks)


def test_compile_for_cpu_under_bfloat16_autocast_is_one_graph():
    """Under bfloat16 autocast as well: before torch 2.4 Dynamo could not
    trace the autocast dtype query, and at that graph break the layers
    judged themselves outside capture and traced their eager fused path
    (torch 2.1: an error inside the dispatcher)."""
    from mmrep.apis import compile_for_cpu
    torch._dynamo.reset()
    models = backbones()[1::2]  # the deploy forms, 'auto'
    x = torch.randn(1, 3, 64, 64)
    for model in models:
        expected = reference(model, x)
        with torch.no_grad(), torch.autocast('cpu', torch.bfloat16):
            explained = torch._dynamo.explain(model)(x)
            assert explained.graph_break_count == 0, explained.break_reasons
            outs = compile_for_cpu(model)(x)
        for out, ref in zip(outs, expected):
            assert out.dtype == torch.bfloat16
            assert rel_err(out, ref) < 2e-2
    torch._dynamo.reset()
