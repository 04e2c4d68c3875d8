"""Shrinking paper configs to tiny backbones for CPU training steps."""
import glob
import os.path as osp

from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from mmrep.utils import replace_sync_bn

from ..conftest import ROOT, TINY_ARCH


# Former names of the segmentation configs, kept as one-line children of
# the OpenMMLab-named ones (tests build only the latter).
RENAMED = {
    'upernet/replknet31b_ade20k.py':
    'upernet/upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py',
    'upernet/replknet31b-in22k_ade20k-640.py':
    'upernet/upernet_replknet31b-in22k_8xb2-accum8-320k_ade20k-640x640.py',
    'upernet/replknet31l-in22k_ade20k-640.py':
    'upernet/upernet_replknet31l-in22k_8xb1-accum8-640k_ade20k-640x640.py',
    'upernet/replknetxl_ade20k-640.py':
    'upernet/upernet_replknetxl_8xb2-accum2-320k_ade20k-640x640.py',
    'upernet/replknet31b_cityscapes.py':
    'upernet/upernet_replknet31b_8xb2-accum4-80k_cityscapes-769x769.py',
}


def configs(folder, exclude='toy'):
    """The configs of ``configs/<folder>``, without toys and former names."""
    paths = sorted(glob.glob(osp.join(ROOT, 'configs', folder, '*.py')))
    return [p for p in paths if exclude not in osp.basename(p) and
            osp.relpath(p, osp.join(ROOT, 'configs')) not in RENAMED]


def config_id(path):
    return osp.basename(path)


def load(path):
    return Config.fromfile(path)


def build(cfg):
    """The config's model, as built (SyncBN kept), in its default scope."""
    init_default_scope(cfg.default_scope)
    return MODELS.build(cfg.model)


def tiny_backbone_arch(arch):
    """TINY_ARCH with the paper arch's small_kernel / dw_ratio kept."""
    from mmrep.models import RepLKNet
    settings = RepLKNet.arch_settings[arch] if isinstance(arch, str) else arch
    return dict(TINY_ARCH, small_kernel=3 if settings['small_kernel'] else None,
                dw_ratio=settings['dw_ratio'])


def shrink_backbone(cfg):
    """Replace the paper backbone by a tiny one of the same kind; keep every
    other setting of the config (with_cp, drop_path, norms, heads' types)."""
    backbone = cfg.model.backbone
    backbone.arch = tiny_backbone_arch(backbone.arch)
    backbone.init_cfg = None
    replace_sync_bn(cfg.model)
    return TINY_ARCH['channels']
