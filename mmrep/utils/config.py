"""Config helpers shared by mmrep's tools: reading a config with
--cfg-options, removing its pretrained weights, the task, CPU runs."""
import warnings

from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope


def read_config(path, cfg_options=None):
    """``Config.fromfile(path)`` with ``--cfg-options`` merged: how every
    tool reads its config."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def pretrained_entries(node):
    """``(owner, entry)`` for every Pretrained entry of the ``init_cfg``s
    in a config tree (``owner`` the dict holding that ``init_cfg``)."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        for entry in init if isinstance(init, list) else [init]:
            if isinstance(entry, dict) and entry.get('type') == 'Pretrained':
                yield node, entry
        for value in node.values():
            yield from pretrained_entries(value)
    elif isinstance(node, list):
        for value in node:
            yield from pretrained_entries(value)


def drop_pretrained(model_cfg):
    """Remove the pretrained weights from a model config: every Pretrained
    entry of its ``init_cfg``s (the other entries stay; an ``init_cfg`` left
    empty is removed, so the module initializes as its class does) and a
    model-level ``pretrained``. For runs and tools whose weights come from
    elsewhere or do not matter. Returns the checkpoints they named."""
    dropped = []
    for owner, entry in list(pretrained_entries(model_cfg)):
        init = owner['init_cfg']
        rest = [e for e in init if e is not entry] if isinstance(
            init, list) else []
        if rest:
            owner['init_cfg'] = rest
        else:
            owner.pop('init_cfg')
        dropped.append(entry.get('checkpoint'))
    if model_cfg.get('pretrained'):
        dropped.append(model_cfg.pop('pretrained'))
    return dropped


def task_of(cfg):
    """'seg' or 'det', from the config's default scope."""
    scope = cfg.get('default_scope', 'mmseg')
    if scope not in ('mmseg', 'mmdet'):
        raise ValueError(f'default_scope {scope!r} is neither mmseg nor mmdet')
    return 'seg' if scope == 'mmseg' else 'det'


def replace_sync_bn(node):
    """Turn every ``norm_cfg`` of type SyncBN in a config tree into BN.

    Returns the number of replacements. Used for multi-process runs on CPUs,
    where torch's SyncBatchNorm cannot run.
    """
    count = 0
    if isinstance(node, dict):
        if node.get('type') in ('SyncBN', 'SyncBatchNorm', 'MMSyncBN'):
            node['type'] = 'BN'
            count += 1
        for value in node.values():
            count += replace_sync_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += replace_sync_bn(value)
    return count


def prepare_cpu_distributed(cfg):
    """Adapt a config to several CPU processes (gloo).

    * SyncBN cannot run on CPU tensors: every SyncBN norm config becomes BN
      (statistics per process), with a warning saying so.
    * mmengine wraps the model in DDP with ``device_ids=[LOCAL_RANK]``, which
      torch refuses for CPU modules: ask for ``device_ids=None`` instead.
    """
    count = replace_sync_bn(cfg.model)
    if count:
        warnings.warn(f'SyncBN cannot run on CPU processes: replaced {count} '
                      f'SyncBN norm configs by BN (statistics per process)')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return count


def build_model(cfg, backbone_only=False):
    """Build ``cfg.model`` (or only its backbone) in the config's default
    scope, with SyncBN turned into BN so it runs in one CPU process."""
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model.backbone if backbone_only else cfg.model)
    return revert_sync_batchnorm(model)
