"""mmrep: RepLKNet large-kernel backbones for MMSegmentation and MMDetection.

Importing the package registers the backbone (and mmrep's engine parts) in
mmrep's own registries and in mmseg's/mmdet's, so a config only needs
``custom_imports=dict(imports=['mmrep'], allow_failed_imports=False)``,
and configs anywhere can inherit mmrep's, e.g.
``mmrep::upernet/upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py``.
"""
from . import engine, models  # noqa: F401  (registers modules)
from .checkpoint import allow_checkpoint_types
from .registry import register_config_scope
from .version import __version__

register_config_scope()
allow_checkpoint_types()

__all__ = ['__version__']
