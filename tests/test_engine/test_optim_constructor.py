"""Parameter groups that torch.compile can trace (mmengine's compile=True
compiles the optimizer step with the model's)."""
import pytest
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmrep.engine.optim_constructor import PlainGroupsOptimWrapperConstructor
from mmrep.registry import OPTIM_WRAPPER_CONSTRUCTORS

from ..helpers import config_id, configs, load


def groups(constructor):
    init_default_scope('mmseg')
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    cfg = dict(type='OptimWrapper',
               optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
               paramwise_cfg=dict(norm_decay_mult=0.))
    if constructor:
        cfg['constructor'] = constructor
    # as the Runner passes it: the config's ConfigDict
    return build_optim_wrapper(model, ConfigDict(cfg)).optimizer.param_groups


def test_groups_are_plain_dicts_with_the_same_settings():
    default, plain = groups(None), groups('PlainGroupsOptimWrapperConstructor')
    assert all(isinstance(g, ConfigDict) for g in default)  # the cause
    assert all(type(g) is dict for g in plain)
    settings = lambda gs: [  # noqa: E731
        ({k: v for k, v in g.items() if k != 'params'},
         [p.shape for p in g['params']]) for g in gs]
    assert settings(default) == settings(plain)


@pytest.mark.parametrize('path', configs('*', exclude='.none.'),
                         ids=config_id)  # the paper configs and the toys
def test_every_config_builds_plain_groups(path):
    """Its constructor is, or derives from, the plain-groups one."""
    name = load(path).optim_wrapper.constructor
    assert issubclass(OPTIM_WRAPPER_CONSTRUCTORS.get(name),
                      PlainGroupsOptimWrapperConstructor), name
