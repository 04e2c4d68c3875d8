"""Config helpers shared by mmrep's train/test tools."""
import warnings


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


def fall_back_to_bn_on_cpu(cfg):
    """Multi-process CPU runs: SyncBN -> BN, with a warning saying so."""
    count = replace_sync_bn(cfg.model)
    if count:
        warnings.warn(f'SyncBN cannot run on CPU processes: replaced {count} '
                      f'SyncBN norm configs by BN (statistics per process)')
    return count
