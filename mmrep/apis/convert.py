"""What tools/convert_checkpoint.py runs: read a checkpoint users bring,
check it against the model it is for, write the file mmrep's configs load
(see ``mmrep.checkpoint.convert``)."""
import os
import os.path as osp

import torch

from mmrep.checkpoint import convert_checkpoint
from mmrep.models import RepLKNet
from mmrep.utils import build_model, drop_pretrained, read_config


def target_model(config=None, cfg_options=None, arch=None,
                 stage_norms=False):
    """The model to check against: a config's (downstream checkpoints), a
    RepLKNet arch's (ImageNet weights), or None (no check)."""
    if config:
        cfg = read_config(config, cfg_options)
        drop_pretrained(cfg.model)
        return build_model(cfg)
    if arch:
        return RepLKNet(arch=arch, norm_intermediate_features=stage_norms)
    return None


def convert_file(src, dst, model=None, model_key=None):
    """Convert ``src`` into ``dst`` (checked against ``model`` if given);
    returns the source format and the number of tensors written."""
    checkpoint, fmt = convert_checkpoint(src, model, model_key)
    if osp.dirname(dst):
        os.makedirs(osp.dirname(dst), exist_ok=True)
    torch.save(checkpoint, dst)
    return fmt, len(checkpoint['state_dict'])
