from .replknet import RepLKNet

__all__ = ['RepLKNet']
