"""mmrep: the large-kernel backbones RepLKNet and UniRepLKNet for
MMSegmentation and MMDetection.

Importing the package registers the backbones (and mmrep's engine parts) in
mmrep's own registries and in mmseg's/mmdet's, so a config only needs
``custom_imports=dict(imports=['mmrep'], allow_failed_imports=False)``,
and configs anywhere can inherit mmrep's, e.g.
``mmrep::upernet/upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py``.
"""
import warnings

import torch

from .version import __version__, check_torch

check_torch(torch.__version__)  # before anything that needs a newer torch

# Before anything imports mmengine: it and the OpenMMLab packages import the
# deprecated pkg_resources (one warning per importer), and mmengine's DDP
# wrapper passes the broadcast_buffers it defaults to; neither is the user's
# to act on. Only these two messages are filtered.
warnings.filterwarnings('ignore', 'pkg_resources is deprecated')
warnings.filterwarnings('ignore', '`broadcast_buffers` is deprecated')

from . import engine, models  # noqa: E402,F401  (registers modules)
from .checkpoint import allow_checkpoint_types  # noqa: E402
from .registry import register_config_scope  # noqa: E402

register_config_scope()
allow_checkpoint_types()

__all__ = ['__version__']
