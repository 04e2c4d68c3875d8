from .checkpoint_compat import allow_mmengine_checkpoints
from .layer_decay import RepLKNetLayerDecayOptimizerConstructor, layer_id
from .reparameterize_hook import ReparameterizeHook

__all__ = ['allow_mmengine_checkpoints',
           'RepLKNetLayerDecayOptimizerConstructor', 'ReparameterizeHook',
           'layer_id']
