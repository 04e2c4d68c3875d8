"""mmrep: RepLKNet large-kernel backbones for MMSegmentation and MMDetection.

Importing the package registers the backbone (and mmrep's engine parts) in
mmrep's own registries and in mmseg's/mmdet's, so a config only needs
``custom_imports=dict(imports=['mmrep'], allow_failed_imports=False)``.
"""
from . import engine, models  # noqa: F401  (registers modules)
from .version import __version__

__all__ = ['__version__']
