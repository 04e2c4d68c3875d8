from .backbones import RepLKNet, UniRepLKNet

__all__ = ['RepLKNet', 'UniRepLKNet']
