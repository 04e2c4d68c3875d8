from .checkpoint_compat import allow_mmengine_checkpoints
from .layer_decay import RepLKNetLayerDecayOptimizerConstructor, layer_id

__all__ = ['allow_mmengine_checkpoints',
           'RepLKNetLayerDecayOptimizerConstructor', 'layer_id']
