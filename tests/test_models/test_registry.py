"""RepLKNet builds from mmseg's, mmdet's and mmrep's registries."""
import pytest
from mmengine.registry import DefaultScope, init_default_scope

import mmrep  # noqa: F401
from ..helpers import TINY_ARCH


@pytest.mark.downstream
@pytest.mark.parametrize('scope', ['mmseg', 'mmdet'])
def test_plain_type_builds_in_downstream_scopes(scope):
    init_default_scope(scope)
    registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
    model = registry.build(dict(type='RepLKNet', arch=TINY_ARCH))
    assert type(model).__name__ == 'RepLKNet'


@pytest.mark.parametrize('scope', ['mmseg', 'mmdet', 'mmengine'])
def test_scoped_type_builds_from_any_scope(scope):
    from mmengine.registry import MODELS
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(dict(type='mmrep.RepLKNet', arch=TINY_ARCH))
    assert type(model).__name__ == 'RepLKNet'


def test_mmrep_registry_is_a_child_of_mmengine():
    from mmengine.registry import MODELS as ROOT_MODELS

    from mmrep.registry import MODELS
    assert MODELS.parent is ROOT_MODELS and MODELS.scope == 'mmrep'
    assert 'RepLKNet' in MODELS.module_dict
