from .layer_decay import (RepLKNetLayerDecayOptimizerConstructor,
                          UniRepLKNetLayerDecayOptimizerConstructor)
from .optim_constructor import PlainGroupsOptimWrapperConstructor
from .reparameterize_hook import ReparameterizeHook

__all__ = ['PlainGroupsOptimWrapperConstructor',
           'RepLKNetLayerDecayOptimizerConstructor',
           'UniRepLKNetLayerDecayOptimizerConstructor', 'ReparameterizeHook']
