"""Checks a training run makes before the Runner starts, so that a wrong
path fails in a second with the fix, not minutes in, frames deep.

* The pretrained backbone weights (``init_cfg=dict(type='Pretrained')``)
  must exist, unless the run resumes or loads a whole checkpoint: those
  weights replace them, so the pretrained file is not needed (a run can move
  to a machine without it) and is not read.
* ``--resume`` must name a checkpoint of the config's model.
"""
import os.path as osp

from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import find_latest_checkpoint

from mmrep.checkpoint import CheckpointError, compare_keys, read_checkpoint
from mmrep.utils import drop_pretrained, pretrained_entries


def weights_source(cfg):
    """The checkpoint whose weights the run starts from (``load_from``, or
    the latest one of the work dir when resuming), or None."""
    if cfg.get('load_from'):
        return cfg.load_from
    if cfg.get('resume') and cfg.get('work_dir'):
        return find_latest_checkpoint(cfg.work_dir)
    return None


def check_pretrained(cfg, config_path):
    """Skip the pretrained loads when a whole checkpoint replaces them; else
    make sure every local pretrained file exists. Returns the checkpoint the
    run starts from, or None."""
    source = weights_source(cfg)
    if source is not None:
        for path in drop_pretrained(cfg.model):
            print_log(f'not loading the pretrained weights {path}: the run '
                      f'starts from {source}, whose weights replace them',
                      logger='current')
        return source
    for _, entry in pretrained_entries(cfg.model):
        path = entry.get('checkpoint')
        if path and '://' not in str(path) and not osp.isfile(path):
            raise FileNotFoundError(
                f'{config_path}: the pretrained weights {path!r} do not '
                f'exist. Give their path with --cfg-options '
                f'model.backbone.init_cfg.checkpoint=PATH (the official '
                f'ImageNet .pth, or a URL), or train from scratch with '
                f'--cfg-options model.backbone.init_cfg=None')
    return source


def check_resume_fits(model, checkpoint, config_path):
    """Refuse to resume ``model`` (built from ``config_path``) from a
    checkpoint of another model, naming both and the keys that differ."""
    model = model.module if is_model_wrapper(model) else model
    saved = read_checkpoint(checkpoint)
    weights = saved.get('state_dict', saved)
    diff = compare_keys(weights, model.state_dict())
    if not diff:
        return
    origin = saved.get('meta', {}).get('experiment_name')
    lines = [f'--resume: {checkpoint}'
             + (f' (written by {origin})' if origin else '')
             + f' is not a checkpoint of the model of {config_path}:']
    for label, keys in (('missing', diff.missing),
                        ('unexpected', diff.unexpected),
                        ('of another shape', diff.mismatched)):
        if keys:
            lines.append(f'  {len(keys)} keys {label}, e.g. '
                         + ', '.join(keys[:5]))
    raise CheckpointError('\n'.join(lines))
