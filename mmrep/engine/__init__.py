from .layer_decay import (RepLKNetLayerDecayOptimizerConstructor,
                          UniRepLKNetLayerDecayOptimizerConstructor, layer_id,
                          unireplknet_layer_id)
from .optim_constructor import PlainGroupsOptimWrapperConstructor
from .reparameterize_hook import ReparameterizeHook

__all__ = ['PlainGroupsOptimWrapperConstructor',
           'RepLKNetLayerDecayOptimizerConstructor',
           'UniRepLKNetLayerDecayOptimizerConstructor', 'ReparameterizeHook',
           'layer_id', 'unireplknet_layer_id']
