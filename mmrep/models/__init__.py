from mmrep.registry import register_into_downstream
from .backbones import RepLKNet

register_into_downstream('MODELS', RepLKNet)

__all__ = ['RepLKNet']
