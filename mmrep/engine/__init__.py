from .layer_decay import RepLKNetLayerDecayOptimizerConstructor, layer_id
from .optim_constructor import PlainGroupsOptimWrapperConstructor
from .reparameterize_hook import ReparameterizeHook

__all__ = ['PlainGroupsOptimWrapperConstructor',
           'RepLKNetLayerDecayOptimizerConstructor', 'ReparameterizeHook',
           'layer_id']
