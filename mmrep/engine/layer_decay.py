"""Layer-wise learning-rate decay for RepLKNet and UniRepLKNet (the
official recommendation for fine-tuning; mmseg's and mmdet's constructors
only know ConvNeXt/BEiT). One constructor serves both; each family has its
own rule of depth:

* RepLKNet: the stem is layer 0, each (RepLKBlock, ConvFFN) pair
  (``'layer_wise'``) or each stage (``'stage_wise'``) one layer deeper,
  everything outside the backbone (neck, heads) the last layer
  ``num_layers - 1``.
* UniRepLKNet (the official downstream constructor's rule, ``layer_wise``
  only, UniRepLKNet repository): ``downsample_layers.0`` layer 0,
  ``stages.0`` 1, ``downsample_layers.1`` and ``stages.1`` 2,
  ``downsample_layers.2`` 3, block j of ``stages.2`` 3 + j // 3,
  ``downsample_layers.3`` and ``stages.3`` ``num_layers``, everything else
  (the output norms, neck, heads) ``num_layers + 1``.

A parameter of layer ``i`` gets ``lr * decay_rate ** (top - i)`` (``top``
the last layer); biases and other 1-D tensors get no weight decay (GRN's
(1, 1, 1, C) parameters do).
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


def unireplknet_layer_id(name, num_layers):
    """UniRepLKNet depth of parameter ``name`` (model-level, e.g.
    'backbone.stages.2.7.pwconv1.1.weight'); the last layer is
    ``num_layers + 1``."""
    parts = name.split('.')
    if parts[0] != 'backbone' or parts[1] not in ('downsample_layers',
                                                  'stages'):
        return num_layers + 1
    stage = int(parts[2])
    if parts[1] == 'downsample_layers':
        return (0, 2, 3)[stage] if stage < 3 else num_layers
    if stage == 2:
        return 3 + int(parts[3]) // 3
    return (1, 2)[stage] if stage < 2 else num_layers


def default_unireplknet_layers(depths):
    """The ``num_layers`` of the official configs (9 for T's third stage of
    18 blocks, 12 for S..XL's 27): the third stage's last block is layer
    ``num_layers - 1``."""
    return 4 + (depths[2] - 1) // 3


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


def depth_rule(backbone, decay_type, num_layers=None):
    """``(layer_id(name), top)`` for ``backbone``'s family."""
    from mmrep.models import RepLKNet, UniRepLKNet
    if decay_type not in DECAY_TYPES:
        raise ValueError(f'paramwise_cfg.decay_type must be one of '
                         f'{DECAY_TYPES}, got {decay_type!r}')
    if isinstance(backbone, UniRepLKNet):
        if decay_type != 'layer_wise':
            raise ValueError("paramwise_cfg.decay_type: UniRepLKNet's rule "
                             "is 'layer_wise'")
        depths = backbone.arch['depths']
        if len(depths) != 4:
            raise ValueError(f'UniRepLKNet layer decay needs 4 stages, got '
                             f'depths {depths}')
        n = num_layers or default_unireplknet_layers(depths)
        return (lambda name: unireplknet_layer_id(name, n)), n + 1
    if isinstance(backbone, RepLKNet):
        layers = backbone.arch['layers']
        n = num_layers or (sum(layers) + 2 if decay_type == 'layer_wise'
                           else len(layers) + 2)
        return (lambda name: layer_id(name, layers, decay_type, n)), n - 1
    raise ValueError('RepLKNetLayerDecayOptimizerConstructor needs a model '
                     'whose backbone is RepLKNet or UniRepLKNet, got '
                     f'{type(backbone).__name__}')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class RepLKNetLayerDecayOptimizerConstructor(
        PlainGroupsOptimWrapperConstructor):
    """Optimizer wrapper constructor with layer-wise lr decay for RepLKNet
    and UniRepLKNet (the rule follows the backbone; see the module's
    docstring).

    ``paramwise_cfg`` keys:
        decay_rate (float): Multiplier per layer of depth. Required.
        decay_type (str): 'layer_wise' (RepLKNet: per block pair) or
            'stage_wise' (RepLKNet only). Defaults to 'layer_wise'.
        num_layers (int, optional): RepLKNet: layers counted, defaults to
            sum(layers) + 2 (layer_wise) or num_stages + 2 (stage_wise).
            UniRepLKNet: the official ``num_layers`` (9 for T, 12 for S..XL
            by default).

    Example::

        optim_wrapper = dict(
            type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4),
            constructor='RepLKNetLayerDecayOptimizerConstructor',
            paramwise_cfg=dict(decay_rate=0.9, decay_type='layer_wise'))
    """

    def add_params(self, params, module, **kwargs):
        cfg = self.paramwise_cfg
        if 'decay_rate' not in cfg:
            raise ValueError(f'paramwise_cfg.decay_rate is required by '
                             f'{type(self).__name__}')
        decay_type = cfg.get('decay_type', 'layer_wise')
        lid_of, top = depth_rule(getattr(module, 'backbone', None),
                                 decay_type, cfg.get('num_layers'))
        groups = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            no_decay = param.ndim == 1 or name.endswith('.bias')
            lid = lid_of(name)
            key = f'layer_{lid}_{"no_decay" if no_decay else "decay"}'
            if key not in groups:
                scale = cfg['decay_rate']**(top - lid)
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
                f'{cfg["decay_rate"]}, top layer {top}): '
                f'{len(groups)} parameter groups')
        params.extend(groups.values())


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class UniRepLKNetLayerDecayOptimizerConstructor(
        RepLKNetLayerDecayOptimizerConstructor):
    """The same constructor under a UniRepLKNet name (configs read better);
    the rule follows the backbone either way."""


for _cls in (RepLKNetLayerDecayOptimizerConstructor,
             UniRepLKNetLayerDecayOptimizerConstructor):
    register_into_downstream('OPTIM_WRAPPER_CONSTRUCTORS', _cls)
