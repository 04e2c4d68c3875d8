"""Let mmengine resume its own checkpoints on torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default; mmengine 0.10.7
checkpoints hold a few non-tensor objects (the message hub's
``HistoryBuffer`` with numpy arrays, numpy scalars, and the buffer class's
statistics methods, pickled as ``getattr(HistoryBuffer, 'mean')``), so ``--resume``
fails. Rather than turning weights-only loading off, we allow exactly those
types, and a ``getattr`` that only reaches a HistoryBuffer's statistics.
"""
import numpy as np
import torch


def _numpy_globals():
    try:  # numpy 2.x
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtypes = {np.dtype(t) for t in (np.bool_, np.int8, np.int16, np.int32,
                                     np.int64, np.uint8, np.float16,
                                     np.float32, np.float64)}
    return [_reconstruct, scalar, np.ndarray, np.dtype] + [
        type(d) for d in dtypes]


_STATISTICS = ('min', 'max', 'mean', 'current')


def _history_buffer_getattr(obj, name):
    """``getattr`` restricted to what HistoryBuffer pickles."""
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and name in _STATISTICS:
        return getattr(obj, name)
    raise RuntimeError(f'refusing getattr({type(obj).__name__}, {name!r}) '
                       f'while loading a checkpoint')


def allow_mmengine_checkpoints():
    """Add the types of mmengine's resume checkpoints to torch's
    weights-only allow-list (a no-op on torch < 2.6, which unpickles)."""
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return
    from mmengine.logging import HistoryBuffer
    torch.serialization.add_safe_globals(
        [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')] +
        _numpy_globals())
