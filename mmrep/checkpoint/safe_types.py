"""The harmless non-tensor types of the checkpoints users bring, allowed in
torch's weights-only unpickler (nothing else is ever unpickled).

* mmengine's own resume files: the message hub's ``HistoryBuffer`` with
  numpy arrays and scalars, and the buffer's statistics methods, pickled as
  ``getattr(HistoryBuffer, 'mean')``;
* mmcv 1.x downstream files (the official UperNet, FCOS and Cascade ones):
  numpy scalars in ``meta`` (e.g. a best score);
* the official ImageNet training script: its ``args``, an
  ``argparse.Namespace`` of plain values.

:func:`allow_checkpoint_types` runs when mmrep is imported, so that mmseg's
and mmdet's own tools (which import mmrep through ``custom_imports``) read
and resume these files too on torch >= 2.6, where weights-only loading is
the default.
"""
import argparse

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


def allow_checkpoint_types():
    """Add the types above to torch's weights-only allow-list (a no-op on
    torch < 2.6, which has none; mmrep's own reads then still refuse them)."""
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return
    from mmengine.logging import HistoryBuffer
    torch.serialization.add_safe_globals(
        [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'),
         argparse.Namespace] + _numpy_globals())
