from mmrep.registry import register_into_downstream
from .backbones import RepLKNet, UniRepLKNet

register_into_downstream('MODELS', RepLKNet)
register_into_downstream('MODELS', UniRepLKNet)

__all__ = ['RepLKNet', 'UniRepLKNet']
