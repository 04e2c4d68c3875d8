"""Layer-wise learning-rate decay (the official recommendation for
fine-tuning RepLKNet and UniRepLKNet; mmseg's and mmdet's constructors only
know ConvNeXt/BEiT). The backbone says the depth of each parameter
(``get_layer_depth``, as mmpretrain's backbones do), so the constructor
knows no backbone's internals: RepLKNet counts block pairs or stages,
UniRepLKNet follows the official downstream constructor's rule (see their
``_layer_depth``).

A parameter of layer ``i`` gets ``lr * decay_rate ** (top - i)`` (``top``
the last layer); biases and other 1-D tensors get no weight decay (GRN's
(1, 1, 1, C) parameters do).
"""
from mmengine.dist import get_dist_info
from mmengine.logging import MMLogger
from mmrep.registry import register

from .optim_constructor import PlainGroupsOptimWrapperConstructor


@register('OPTIM_WRAPPER_CONSTRUCTORS')
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
        backbone = getattr(module, 'backbone', None)
        if not hasattr(backbone, 'get_layer_depth'):
            raise ValueError(
                f'{type(self).__name__} needs a model whose backbone tells '
                'the depth of its parameters (get_layer_depth: RepLKNet, '
                f'UniRepLKNet), got {type(backbone).__name__}')

        def depth(name):
            return backbone.get_layer_depth(name, 'backbone.', decay_type,
                                            cfg.get('num_layers'))

        _, top = depth('')  # checks decay_type for this backbone
        groups = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            no_decay = param.ndim == 1 or name.endswith('.bias')
            lid, _ = depth(name)
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


@register('OPTIM_WRAPPER_CONSTRUCTORS')
class UniRepLKNetLayerDecayOptimizerConstructor(
        RepLKNetLayerDecayOptimizerConstructor):
    """The same constructor under a UniRepLKNet name (configs read better);
    the rule follows the backbone either way."""
