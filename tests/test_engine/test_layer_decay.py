import pytest
import torch.nn as nn
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmrep.models import RepLKNet

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
