"""Layer-wise learning-rate decay for RepLKNet (the official recommendation
for fine-tuning; mmseg's and mmdet's constructors only know ConvNeXt/BEiT).

Parameters are grouped by depth: the stem is layer 0, each (RepLKBlock,
ConvFFN) pair (``'layer_wise'``) or each stage (``'stage_wise'``) one layer
deeper, and everything outside the backbone (neck, heads) the last layer.
A parameter of layer ``i`` gets ``lr * decay_rate ** (num_layers - 1 - i)``;
biases and norm parameters (1-D tensors) get no weight decay.
"""
from mmengine.dist import get_dist_info
from mmengine.logging import MMLogger
from mmrep.registry import OPTIM_WRAPPER_CONSTRUCTORS, register_into_downstream

from .optim_constructor import PlainGroupsOptimWrapperConstructor

DECAY_TYPES = ('layer_wise', 'stage_wise')


def _stage_starts(layers):
    starts, total = [], 0
    for n in layers:
        starts.append(total)
        total += n
    return starts


def layer_id(name, layers, decay_type, num_layers):
    """Depth of parameter ``name`` (a model-level name, e.g.
    'backbone.stages.1.blocks.3.pw1.conv.weight')."""
    if not name.startswith('backbone.'):
        return num_layers - 1
    parts = name.split('.')
    if parts[1] == 'stem':
        return 0
    if parts[1] not in ('stages', 'transitions'):
        return num_layers - 1
    stage = int(parts[2]) + (1 if parts[1] == 'transitions' else 0)
    if decay_type == 'stage_wise':
        return min(stage + 1, num_layers - 1)
    first = _stage_starts(layers)[stage]
    if parts[1] == 'stages' and parts[3] == 'blocks':
        return min(1 + first + int(parts[4]) // 2, num_layers - 1)
    if parts[1] == 'stages':  # the stage's output norm: its last pair
        return min(first + layers[stage], num_layers - 1)
    return min(1 + first, num_layers - 1)  # transition into `stage`


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class RepLKNetLayerDecayOptimizerConstructor(
        PlainGroupsOptimWrapperConstructor):
    """Optimizer wrapper constructor with layer-wise lr decay for RepLKNet.

    ``paramwise_cfg`` keys:
        decay_rate (float): Multiplier per layer of depth. Required.
        decay_type (str): 'layer_wise' (per block pair) or 'stage_wise'.
            Defaults to 'layer_wise'.
        num_layers (int, optional): Layers counted; defaults to
            sum(layers) + 2 (layer_wise) or num_stages + 2 (stage_wise).

    Example::

        optim_wrapper = dict(
            type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4),
            constructor='RepLKNetLayerDecayOptimizerConstructor',
            paramwise_cfg=dict(decay_rate=0.9, decay_type='layer_wise'))
    """

    def add_params(self, params, module, **kwargs):
        cfg = self.paramwise_cfg
        if 'decay_rate' not in cfg:
            raise ValueError('paramwise_cfg.decay_rate is required by '
                             'RepLKNetLayerDecayOptimizerConstructor')
        decay_type = cfg.get('decay_type', 'layer_wise')
        if decay_type not in DECAY_TYPES:
            raise ValueError(f'paramwise_cfg.decay_type must be one of '
                             f'{DECAY_TYPES}, got {decay_type!r}')
        backbone = getattr(module, 'backbone', None)
        if backbone is None or not hasattr(backbone, 'arch'):
            raise ValueError('RepLKNetLayerDecayOptimizerConstructor needs a '
                             'model whose backbone is RepLKNet')
        layers = backbone.arch['layers']
        num_layers = cfg.get('num_layers') or (
            sum(layers) + 2 if decay_type == 'layer_wise' else len(layers) + 2)
        groups = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            no_decay = param.ndim == 1 or name.endswith('.bias')
            lid = layer_id(name, layers, decay_type, num_layers)
            key = f'layer_{lid}_{"no_decay" if no_decay else "decay"}'
            if key not in groups:
                scale = cfg['decay_rate']**(num_layers - 1 - lid)
                groups[key] = dict(
                    params=[], param_names=[], lr_scale=scale,
                    lr=scale * self.base_lr,
                    weight_decay=0. if no_decay else self.base_wd)
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        rank, _ = get_dist_info()
        if rank == 0:
            MMLogger.get_current_instance().info(
                f'layer-wise lr decay ({decay_type}, rate '
                f'{cfg["decay_rate"]}, {num_layers} layers): '
                f'{len(groups)} parameter groups')
        params.extend(groups.values())


register_into_downstream('OPTIM_WRAPPER_CONSTRUCTORS',
                         RepLKNetLayerDecayOptimizerConstructor)
