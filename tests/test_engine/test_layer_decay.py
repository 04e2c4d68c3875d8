import re

import pytest
import torch.nn as nn
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmrep.models import RepLKNet, UniRepLKNet

from ..helpers import TINY_ARCH


class Segmentor(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = RepLKNet(arch=dict(TINY_ARCH, layers=[1, 2, 1, 1]))
        self.decode_head = nn.Conv2d(64, 4, 1)


def lrs(decay_type, scope='mmseg', **extra):
    init_default_scope(scope)
    model = Segmentor()
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05),
        constructor='RepLKNetLayerDecayOptimizerConstructor',
        paramwise_cfg=dict(decay_rate=0.5, decay_type=decay_type, **extra)))
    out = {}
    for group in wrapper.optimizer.param_groups:
        for name in group['param_names']:
            out[name] = (group['lr'], group['weight_decay'])
    return out


@pytest.mark.parametrize('scope', ['mmseg', 'mmdet'])
def test_layer_wise_learning_rates(scope):
    lr = lrs('layer_wise', scope)  # 5 pairs -> 7 layers, top lr 1.0
    assert lr['decode_head.weight'] == (1.0, 0.05)
    assert lr['decode_head.bias'] == (1.0, 0.0)
    assert lr['backbone.stem.0.conv.weight'] == (0.5**6, 0.05)
    assert lr['backbone.stem.0.bn.weight'] == (0.5**6, 0.0)
    # stage 1 (layers [1, 2, 1, 1]) holds pairs 2 and 3 -> layers 2, 3
    assert lr['backbone.stages.1.blocks.0.pw1.conv.weight'][0] == 0.5**4
    assert lr['backbone.stages.1.blocks.1.pw1.conv.weight'][0] == 0.5**4
    assert lr['backbone.stages.1.blocks.3.pw2.conv.weight'][0] == 0.5**3
    assert lr['backbone.transitions.0.0.conv.weight'][0] == 0.5**4
    assert lr['backbone.stages.3.blocks.1.pw2.conv.weight'][0] == 0.5**1


def test_stage_wise_learning_rates():
    lr = lrs('stage_wise')  # 4 stages -> 6 layers
    assert lr['backbone.stem.1.conv.weight'][0] == 0.5**5
    assert lr['backbone.stages.0.blocks.1.pw1.conv.weight'][0] == 0.5**4
    assert lr['backbone.transitions.0.1.conv.weight'][0] == 0.5**3
    assert lr['backbone.stages.1.blocks.3.pw1.conv.weight'][0] == 0.5**3
    assert lr['backbone.stages.3.blocks.0.pw1.conv.weight'][0] == 0.5**1
    assert lr['decode_head.weight'][0] == 1.0


def test_bad_decay_settings():
    with pytest.raises(ValueError, match='decay_type must be one of'):
        lrs('block_wise')


def test_the_backbone_tells_the_depth():
    """The constructor asks the backbone (mmpretrain's get_layer_depth);
    a backbone that cannot tell is refused by name."""
    backbone = Segmentor().backbone  # 5 pairs: layers 0..6
    assert backbone.get_layer_depth('backbone.stem.0.conv.weight',
                                    'backbone.') == (0, 6)
    assert backbone.get_layer_depth('stages.1.blocks.3.pw2.conv.weight'
                                    ) == (3, 6)
    assert backbone.get_layer_depth('neck.conv.weight', 'backbone.') == (6, 6)
    assert backbone.get_layer_depth('stem.0.conv.weight',
                                    decay_type='stage_wise') == (0, 5)
    model = Segmentor()
    model.backbone = nn.Conv2d(3, 64, 3)
    init_default_scope('mmseg')
    with pytest.raises(ValueError, match='get_layer_depth.*Conv2d'):
        build_optim_wrapper(model, dict(
            type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.0),
            constructor='RepLKNetLayerDecayOptimizerConstructor',
            paramwise_cfg=dict(decay_rate=0.9)))


# ------------------------------------------------------------ UniRepLKNet
def official_unireplknet_layer(name, n):
    """The official downstream constructor's rule, written out as listed:
    downsample_layers.0 -> 0, .1 -> 2, .2 -> 3, .3 -> n; stages.0 -> 1,
    stages.1 -> 2, stages.2.j -> 3 + j // 3, stages.3 -> n; the rest n + 1."""
    m = re.match(r'backbone\.(downsample_layers|stages)\.(\d)\.(\d+)', name)
    if m is None:
        return n + 1
    kind, stage, index = m.group(1), int(m.group(2)), int(m.group(3))
    if kind == 'downsample_layers':
        return {0: 0, 1: 2, 2: 3, 3: n}[stage]
    return {0: 1, 1: 2, 2: 3 + index // 3, 3: n}[stage]


class UniSegmentor(nn.Module):

    def __init__(self, **kwargs):
        super().__init__()
        # T's depths pattern, tiny: stage 3 has 7 blocks -> ids 3, 3, 3, 4,
        # 4, 4, 5
        self.backbone = UniRepLKNet(arch=dict(
            depths=[1, 2, 7, 1], dims=[8, 16, 32, 64],
            kernel_sizes=[3, 7, [7, 3] * 3 + [7], 7]), **kwargs)
        self.decode_head = nn.Conv2d(64, 4, 1)


@pytest.mark.parametrize('constructor', [
    'UniRepLKNetLayerDecayOptimizerConstructor',
    'RepLKNetLayerDecayOptimizerConstructor'])
@pytest.mark.parametrize('scope', ['mmseg', 'mmdet'])
def test_every_unireplknet_parameter_follows_the_official_rule(constructor,
                                                               scope):
    init_default_scope(scope)
    model = UniSegmentor(frozen_stages=0)  # the stem is not optimized
    n, rate, lr, wd = 6, 0.9, 2e-4, 0.05
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=lr, weight_decay=wd),
        constructor=constructor,
        paramwise_cfg=dict(decay_rate=rate, decay_type='layer_wise',
                           num_layers=n)))
    seen = {}
    for group in wrapper.optimizer.param_groups:
        for name in group['param_names']:
            seen[name] = group
    trainable = {k for k, p in model.named_parameters() if p.requires_grad}
    assert set(seen) == trainable
    assert not any(k.startswith('backbone.downsample_layers.0.')
                   for k in seen)
    params = dict(model.named_parameters())
    for name, group in seen.items():
        expected = official_unireplknet_layer(name, n)
        assert group['lr'] == pytest.approx(lr * rate**(n + 1 - expected)), \
            name
        no_decay = params[name].ndim == 1 or name.endswith('.bias')
        assert group['weight_decay'] == (0. if no_decay else wd), name
    # spot checks of the rule itself
    assert official_unireplknet_layer('backbone.stages.2.6.gamma', n) == 5
    assert seen['backbone.stages.2.1.act.1.gamma']['weight_decay'] == wd
    assert seen['backbone.norm3.weight']['lr'] == pytest.approx(lr)


def test_unireplknet_default_num_layers_are_the_official_ones():
    from mmrep.models.backbones.unireplknet import default_layer_count
    assert default_layer_count((3, 3, 18, 3)) == 9  # T
    assert default_layer_count((3, 3, 27, 3)) == 12  # S..XL


def test_unireplknet_refuses_stage_wise():
    init_default_scope('mmseg')
    with pytest.raises(ValueError, match="UniRepLKNet's rule is"):
        build_optim_wrapper(UniSegmentor(), dict(
            type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.0),
            constructor='UniRepLKNetLayerDecayOptimizerConstructor',
            paramwise_cfg=dict(decay_rate=0.9, decay_type='stage_wise')))
