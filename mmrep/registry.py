"""mmrep's registries and their hook-up to mmseg and mmdet.

mmrep keeps its own ``MODELS`` registry (a child of mmengine's root), so
``type='mmrep.RepLKNet'`` builds from any scope. Configs of mmseg and mmdet
usually write plain ``type='RepLKNet'`` under their own default scope; for that
the classes are also registered into those registries when the packages are
installed (see :func:`register`).
"""
import importlib

from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import Registry

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='mmrep',
    locations=['mmrep.models'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, scope='mmrep',
    locations=['mmrep.engine'])

HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='mmrep',
                 locations=['mmrep.engine'])

DOWNSTREAM_SCOPES = ('mmseg', 'mmdet')


def register_config_scope():
    """Let configs inherit mmrep's as ``mmrep::upernet/...`` bases.

    mmengine resolves ``pkg::`` only for the packages in its
    ``MODULE2PACKAGE`` table; once mmrep is imported (as mmrep's tools do)
    its own configs, shipped in ``mmrep/.mim/configs``, resolve too.
    """
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault('mmrep', 'mmrep')


def register(registry_name):
    """The one way mmrep registers a class: a decorator putting it, under
    its own name, in mmrep's registry ``registry_name`` ('MODELS', 'HOOKS'
    or 'OPTIM_WRAPPER_CONSTRUCTORS') and in mmseg's and mmdet's of that
    name, for each of them that is installed; configs of any of the three
    scopes then build it by name."""
    def add(cls):
        globals()[registry_name].register_module(module=cls)
        _register_into_downstream(registry_name, cls)
        return cls
    return add


def _register_into_downstream(registry_name, cls):
    for scope in DOWNSTREAM_SCOPES:
        try:
            module = importlib.import_module(f'{scope}.registry')
        except ImportError:
            continue
        registry = getattr(module, registry_name)
        if cls.__name__ not in registry.module_dict:
            registry.register_module(module=cls)
