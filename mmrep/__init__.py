"""mmrep: the large-kernel backbones RepLKNet and UniRepLKNet for
MMSegmentation and MMDetection.

Importing the package is what a config's
``custom_imports=dict(imports=['mmrep'], allow_failed_imports=False)`` does;
it changes this process in these ways only, each needed by that config:

* it registers the backbones and mmrep's engine parts in mmrep's registries
  and in mmseg's/mmdet's (``mmrep.registry.register``), and lets configs
  inherit mmrep's as ``mmrep::upernet/...`` bases;
* it adds the few harmless types official checkpoints pickle (numpy scalars,
  the training script's ``argparse.Namespace``, mmengine's message hub) to
  torch's weights-only allow-list (``mmrep.checkpoint.safe_types``), so
  mmseg's and mmdet's own tools read and resume them with
  ``weights_only=True``;
* it filters two warnings that are not the user's to act on (below);
* when MMDeploy is imported (before or after), it applies the few named
  patches MMDeploy 1.3.x needs on this torch (``mmrep.mmdeploy_compat``),
  so MMDeploy's API and its ``tools/deploy.py`` export mmrep's configs.
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

from . import engine, mmdeploy_compat, models  # noqa: E402,F401
from .checkpoint import allow_checkpoint_types  # noqa: E402
from .registry import register_config_scope  # noqa: E402

register_config_scope()
allow_checkpoint_types()
mmdeploy_compat.install()

__all__ = ['__version__']
