from .replknet import RepLKNet
from .unireplknet import UniRepLKNet

__all__ = ['RepLKNet', 'UniRepLKNet']
