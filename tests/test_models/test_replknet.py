import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmrep.models import RepLKNet
from mmrep.models.layers import ReparamLargeKernelConv

from ..helpers import (TINY_ARCH, assert_checkpointing_keeps_gradients,
                       randomize_bn)

ALL_ARCHS = ['31B', '31L', 'XL', '25B', '13B', '7B', '3B']


@pytest.mark.parametrize('arch', ALL_ARCHS)
def test_every_arch_returns_four_maps_at_strides_4_to_32(arch):
    model = RepLKNet(arch=arch).eval()
    channels = RepLKNet.arch_settings[arch]['channels']
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 96))
    assert len(outs) == 4
    for out, c, stride in zip(outs, channels, (4, 8, 16, 32)):
        assert out.shape == (1, c, 64 // stride, 96 // stride)


@pytest.mark.parametrize('arch', ALL_ARCHS)
def test_switch_to_deploy_keeps_the_function(arch):
    torch.manual_seed(0)
    model = RepLKNet(arch=arch, norm_intermediate_features=arch == 'XL')
    randomize_bn(model)
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = model(x)
        model.switch_to_deploy()
        after = model(x)
    lk = [m for m in model.modules() if isinstance(m, ReparamLargeKernelConv)]
    assert lk and all(m.deployed for m in lk)
    assert not any(hasattr(m, 'lkb_origin') or hasattr(m, 'small_conv')
                   for m in lk)
    for b, a in zip(before, after):
        rel = (a - b).norm() / b.norm()
        assert rel < 1e-5, f'{arch}: relative error {rel:.2e}'


def test_deploy_builds_the_merged_form_that_loads_switched_weights():
    torch.manual_seed(0)
    trained = RepLKNet(arch=TINY_ARCH)
    randomize_bn(trained)
    trained.eval()
    deployed = RepLKNet(arch=TINY_ARCH, deploy=True).eval()
    deployed.load_state_dict(trained.switch_to_deploy().state_dict())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(trained(x), deployed(x)):
            torch.testing.assert_close(a, b)


def test_official_module_names():
    keys = RepLKNet(arch=TINY_ARCH).state_dict().keys()
    for key in ['stem.0.conv.weight', 'stem.3.bn.running_var',
                'stages.0.blocks.0.prelkb_bn.weight',
                'stages.0.blocks.0.pw1.conv.weight',
                'stages.0.blocks.0.large_kernel.lkb_origin.conv.weight',
                'stages.0.blocks.0.large_kernel.small_conv.bn.bias',
                'stages.0.blocks.0.pw2.bn.weight',
                'stages.0.blocks.1.preffn_bn.weight',
                'stages.0.blocks.1.pw1.conv.weight',
                'stages.3.blocks.1.pw2.bn.running_mean',
                'transitions.0.0.conv.weight', 'transitions.2.1.bn.weight']:
        assert key in keys


def test_official_parameter_counts():
    # Official RepLKNet-pytorch models: 78.84M (31B), 171.13M (31L), 333.38M
    # (XL) without the head.
    expected = {'31B': 78.84e6, '31L': 171.13e6, 'XL': 333.38e6}
    for arch, count in expected.items():
        with torch.device('meta'):
            model = RepLKNet(arch=arch)
        params = sum(p.numel() for p in model.parameters())
        assert abs(params - count) < 0.005e6, (arch, params)


def test_drop_path_rates_are_linear_and_shared_by_a_pair():
    model = RepLKNet(arch='31B', drop_path_rate=0.5)
    rates = []
    for stage in model.stages:
        for lk, ffn in zip(stage.blocks[::2], stage.blocks[1::2]):
            rate = getattr(lk.drop_path, 'drop_prob', 0.0)
            assert getattr(ffn.drop_path, 'drop_prob', 0.0) == rate
            rates.append(rate)
    torch.testing.assert_close(torch.tensor(rates), torch.linspace(0, 0.5, 24))


def test_out_indices_select_stages():
    model = RepLKNet(arch=TINY_ARCH, out_indices=(1, -1)).eval()
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [16, 64]


def test_norm_intermediate_features_adds_output_bn():
    model = RepLKNet(arch=TINY_ARCH, norm_intermediate_features=True)
    assert all(isinstance(s.norm, torch.nn.BatchNorm2d) for s in model.stages)
    assert 'stages.2.norm.running_mean' in model.state_dict()


def test_frozen_stages_and_norm_eval():
    model = RepLKNet(arch=TINY_ARCH, frozen_stages=2, norm_eval=True)
    model.train()
    for module in (model.stem, model.stages[0], model.transitions[0],
                   model.stages[1]):
        assert not any(p.requires_grad for p in module.parameters())
        assert not module.training
    assert all(p.requires_grad for p in model.stages[2].parameters())
    assert all(not m.training for m in model.modules()
               if isinstance(m, _BatchNorm))
    # frozen stages keep their BN statistics while the rest trains
    before = model.stem[0].bn.running_mean.clone()
    model(torch.randn(2, 3, 64, 64))
    torch.testing.assert_close(model.stem[0].bn.running_mean, before)


def test_with_cp_gives_the_same_gradients():
    assert_checkpointing_keeps_gradients(
        lambda with_cp: RepLKNet(arch=TINY_ARCH, with_cp=with_cp))


def test_sync_bn_from_config():
    model = RepLKNet(arch=TINY_ARCH, norm_cfg=dict(type='SyncBN'))
    assert isinstance(model.stages[0].blocks[0].prelkb_bn,
                      torch.nn.SyncBatchNorm)
    # no process-wide switch: a model built afterwards still uses BN
    other = RepLKNet(arch=TINY_ARCH)
    assert type(other.stages[0].blocks[0].prelkb_bn) is torch.nn.BatchNorm2d
