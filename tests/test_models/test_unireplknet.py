"""UniRepLKNet: the official layout and counts, the re-parameterization of
every part, training options, small inputs."""
import pytest
import torch
import torch.nn.functional as F

from mmrep.models import UniRepLKNet
from mmrep.models.layers import (DILATED_BRANCHES, DilatedReparamBlock,
                                 UniRepLKNetBlock, dilate_kernel)

from ..helpers import assert_checkpointing_keeps_gradients, randomize_bn
from ..helpers.unireplknet import (OFFICIAL_BRANCHES, TINY_UNI_ARCH,
                                   official_arch, official_keys,
                                   official_param_count,
                                   randomize_unireplknet)

ARCHS = ['A', 'F', 'P', 'N', 'T', 'S', 'B', 'L', 'XL']


def rel_err(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def shapes(model):
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


# ------------------------------------------------------------ layout, counts
@pytest.mark.parametrize('arch', ARCHS)
def test_arch_table_and_keys_equal_the_official_layout(arch):
    assert UniRepLKNet.arch_settings[arch] == official_arch(arch)
    with torch.device('meta'):
        model = UniRepLKNet(arch=arch)
        deploy = UniRepLKNet(arch=arch, deploy=True)
    assert shapes(model) == official_keys(official_arch(arch))
    assert shapes(deploy) == official_keys(official_arch(arch), deploy=True)


def test_branch_settings_equal_the_official_ones():
    assert {k: list(v) for k, v in DILATED_BRANCHES.items()} == \
        OFFICIAL_BRANCHES


# Published: the downstream backbone (training form, no classifier) and the
# ImageNet model in deploy form with its classifier (official README).
BACKBONE_M = {'T': 31.05, 'S': 55.69, 'B': 98.07, 'L': 218.54, 'XL': 386.65}
IMAGENET_DEPLOY_M = {'A': 4.44, 'T': 31.04, 'XL': 386.53}


@pytest.mark.parametrize('arch', ARCHS)
def test_parameter_counts_equal_the_published_table(arch):
    layout = official_arch(arch)
    with torch.device('meta'):
        model = UniRepLKNet(arch=arch)
        deploy = UniRepLKNet(arch=arch, deploy=True)
    backbone = sum(p.numel() for p in model.parameters())
    assert backbone == official_param_count(layout)
    if arch in BACKBONE_M:
        assert round(backbone / 1e6, 2) == BACKBONE_M[arch]
    # ImageNet deploy form: no norm0..3, the classifier's norm and head
    c = layout['dims'][-1]
    out_norms = sum(2 * d for d in layout['dims'])
    imagenet = (sum(p.numel() for p in deploy.parameters()) - out_norms
                + 2 * c + 1000 * c + 1000)
    assert imagenet == official_param_count(
        layout, deploy=True, out_norms=False, classifier=True)
    if arch in IMAGENET_DEPLOY_M:
        assert round(imagenet / 1e6, 2) == IMAGENET_DEPLOY_M[arch]


# ------------------------------------------------------ re-parameterization
@pytest.mark.parametrize('kernel_size', sorted(DILATED_BRANCHES))
def test_every_dilated_branch_merges_into_the_kernel_it_replaces(
        kernel_size):
    torch.manual_seed(0)
    x = torch.randn(2, 4, 23, 19, dtype=torch.float64)
    for k, r in DILATED_BRANCHES[kernel_size]:
        w = torch.randn(4, 1, k, k, dtype=torch.float64)
        dilated = F.conv2d(x, w, padding=(r * (k - 1) + 1) // 2, dilation=r,
                           groups=4)
        merged = dilate_kernel(w, r)
        pad = (kernel_size - merged.shape[-1]) // 2
        assert pad >= 0
        plain = F.conv2d(x, F.pad(merged, [pad] * 4),
                         padding=kernel_size // 2, groups=4)
        torch.testing.assert_close(plain, dilated, rtol=1e-12, atol=1e-12,
                                   msg=f'K={kernel_size} branch {k}, r={r}')


@pytest.mark.parametrize('kernel_size', sorted(DILATED_BRANCHES))
def test_dilated_reparam_block_switches_to_one_conv(kernel_size):
    torch.manual_seed(0)
    block = DilatedReparamBlock(8, kernel_size)
    randomize_bn(block)
    block.eval()
    x = torch.randn(2, 8, 20, 17)
    with torch.no_grad():
        before = block(x)
        block.switch_to_deploy()
        after = block(x)
    assert sorted(shapes(block)) == ['lk_origin.bias', 'lk_origin.weight']
    assert rel_err(after, before) < 1e-5


@pytest.mark.parametrize('kernel_size', [3, 5, 7, 13])
@pytest.mark.parametrize('layer_scale', [1e-6, None])
def test_block_switches_with_bn_grn_bias_and_layer_scale_folded(
        kernel_size, layer_scale):
    torch.manual_seed(0)
    block = UniRepLKNetBlock(16, kernel_size,
                             layer_scale_init_value=layer_scale)
    randomize_unireplknet(block)
    block.eval()
    x = torch.randn(2, 16, 15, 12)
    with torch.no_grad():
        before = block(x) - x
        block.switch_to_deploy()
        after = block(x) - x
    assert rel_err(after, before) < 1e-5  # the residual branch alone
    names = set(shapes(block))
    assert not any('norm' in n or 'beta' in n or n == 'gamma' or
                   'pwconv2.2' in n for n in names), names
    prefix = 'dwconv.lk_origin' if kernel_size >= 7 else 'dwconv'
    assert {f'{prefix}.weight', f'{prefix}.bias', 'pwconv2.0.bias'} <= names


@pytest.mark.parametrize('arch', ARCHS)
def test_deploy_form_equals_the_training_form(arch):
    torch.manual_seed(0)
    model = UniRepLKNet(arch=arch)
    randomize_unireplknet(model)
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = model(x)
        model.switch_to_deploy()
        after = model(x)
    assert shapes(model) == official_keys(official_arch(arch), deploy=True)
    for i, (a, b) in enumerate(zip(after, before)):
        assert torch.isfinite(b).all()
        assert rel_err(a, b) < 1e-4, (arch, i, rel_err(a, b))


def test_deploy_checkpoint_builds_with_deploy_true_and_loads_key_for_key():
    torch.manual_seed(0)
    trained = UniRepLKNet(arch=TINY_UNI_ARCH)
    randomize_unireplknet(trained)
    trained.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = trained(x)
    state = trained.switch_to_deploy().state_dict()
    deployed = UniRepLKNet(arch=TINY_UNI_ARCH, deploy=True).eval()
    deployed.load_state_dict(state, strict=True)
    with torch.no_grad():
        for a, b in zip(deployed(x), expected):
            assert rel_err(a, b) < 1e-5


# ------------------------------------------------------------------ options
def test_out_indices_select_stages_and_their_norms():
    model = UniRepLKNet(arch=TINY_UNI_ARCH, out_indices=(1, -1)).eval()
    outs = model(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(1, 16, 8, 8), (1, 64, 2, 2)]
    assert not hasattr(model, 'norm0') and hasattr(model, 'norm3')


def test_four_maps_at_strides_4_to_32_after_layer_norms():
    torch.manual_seed(0)
    model = UniRepLKNet(arch=TINY_UNI_ARCH).eval()
    outs = model(torch.randn(2, 3, 96, 64))
    for out, c, stride in zip(outs, (8, 16, 32, 64), (4, 8, 16, 32)):
        assert out.shape == (2, c, 96 // stride, 64 // stride)
        # a LayerNorm with unit weight over the channels
        torch.testing.assert_close(out.mean(1), torch.zeros_like(out[:, 0]),
                                   atol=1e-5, rtol=0)


def test_drop_path_rates_are_linear_over_all_blocks():
    with torch.device('meta'):
        model = UniRepLKNet(arch='S', drop_path_rate=0.3)
    rates = [getattr(b.drop_path, 'drop_prob', 0.) for s in model.stages
             for b in s]
    torch.testing.assert_close(torch.tensor(rates, dtype=torch.float64),
                               torch.linspace(0, 0.3, 36,
                                              dtype=torch.float64))


def test_frozen_stages_and_norm_eval():
    model = UniRepLKNet(arch=TINY_UNI_ARCH, frozen_stages=2, norm_eval=True)
    model.train()
    frozen = [model.downsample_layers[0], model.stages[0],
              model.downsample_layers[1], model.stages[1]]
    for module in frozen:
        assert not any(p.requires_grad for p in module.parameters())
        assert not module.training
    assert all(p.requires_grad for p in model.stages[2].parameters())
    assert all(p.requires_grad for p in model.downsample_layers[2]
               .parameters())
    bns = [m for m in model.modules()
           if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert bns and not any(m.training for m in bns)
    stem_only = UniRepLKNet(arch=TINY_UNI_ARCH, frozen_stages=0)
    assert not any(p.requires_grad
                   for p in stem_only.downsample_layers[0].parameters())
    assert all(p.requires_grad for p in stem_only.stages[0].parameters())


def test_with_cp_gives_the_same_gradients():
    assert_checkpointing_keeps_gradients(
        lambda with_cp: UniRepLKNet(arch=TINY_UNI_ARCH, with_cp=with_cp,
                                    layer_scale_init_value=0.5))


def test_sync_bn_from_config_and_no_process_wide_switch():
    model = UniRepLKNet(arch=TINY_UNI_ARCH, norm_cfg=dict(type='SyncBN'))
    assert isinstance(model.stages[1][0].dwconv.origin_bn,
                      torch.nn.SyncBatchNorm)
    assert isinstance(model.stages[0][0].norm, torch.nn.SyncBatchNorm)
    other = UniRepLKNet(arch=TINY_UNI_ARCH)
    assert type(other.stages[0][0].norm) is torch.nn.BatchNorm2d


def test_large_kernels_run_through_mmrep_ops_and_small_ones_through_torch():
    from mmrep.ops import LargeKernelDWConv2d
    model = UniRepLKNet(arch=TINY_UNI_ARCH, large_kernel_impl='rows')
    large = [m for m in model.modules() if isinstance(m, LargeKernelDWConv2d)]
    assert [m.kernel_size[0] for m in large] == [13, 13, 7]
    assert all(m.impl == 'rows' for m in large)
    # dilated branches and 3x3 blocks: PyTorch's convs (the 3x3 ones also
    # oneDNN's fused conv in CPU inference)
    from mmrep.models.layers.fused import InferenceConv2d
    assert type(model.stages[1][0].dwconv.dil_conv_k7_2) is torch.nn.Conv2d
    assert type(model.stages[0][0].dwconv) is InferenceConv2d
    model.switch_to_deploy()
    large = [m for m in model.modules() if isinstance(m, LargeKernelDWConv2d)]
    assert len(large) == 3 and all(m.impl == 'rows' for m in large)


def test_default_init_is_truncated_normal_and_layer_scale_small():
    torch.manual_seed(0)
    model = UniRepLKNet(arch='A')
    model.init_weights()
    w = model.stages[2][0].pwconv1[1].weight
    # std 0.02 (cut at +-2 absolute, as timm's trunc_normal_ the official
    # code calls)
    assert abs(w.std().item() - 0.02) < 0.002
    assert (model.stages[2][0].pwconv1[1].bias == 0).all()
    assert (model.stages[0][0].gamma == 1e-6).all()


# -------------------------------------------------------------- small inputs
@pytest.mark.parametrize('size', [(32, 32), (384, 128), (97, 61), (33, 47)])
@pytest.mark.parametrize('impl', ['auto', 'torch'])
def test_small_and_narrow_inputs_give_finite_outputs_and_gradients(size,
                                                                   impl):
    torch.manual_seed(0)
    model = UniRepLKNet(arch=dict(TINY_UNI_ARCH, dims=[16, 32, 64, 128]),
                        layer_scale_init_value=1.0, large_kernel_impl=impl)
    model.init_weights()
    x = torch.randn(2, 3, *size, requires_grad=True)
    outs = model.train()(x)
    sum(o.square().mean() for o in outs).backward()
    assert all(torch.isfinite(o).all() for o in outs)
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    with torch.no_grad():
        outs = model.eval()(x)
    assert all(torch.isfinite(o).all() for o in outs)
    assert outs[-1].shape[-2:] == tuple(-(-s // 32) for s in size)
