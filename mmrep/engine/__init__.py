from .layer_decay import RepLKNetLayerDecayOptimizerConstructor, layer_id
from .reparameterize_hook import ReparameterizeHook

__all__ = ['RepLKNetLayerDecayOptimizerConstructor', 'ReparameterizeHook',
           'layer_id']
