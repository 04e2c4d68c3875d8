"""Config helpers shared by mmrep's train/test tools."""
import warnings

from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope


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
