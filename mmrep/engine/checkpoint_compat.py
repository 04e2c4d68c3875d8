"""Let mmengine resume its own checkpoints on torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default; mmengine 0.10.7
checkpoints hold a few non-tensor objects (the message hub's
``HistoryBuffer`` with numpy arrays and scalars), so ``--resume`` fails.
Rather than turning weights-only loading off, we allow exactly those types.
"""
import numpy as np
import torch


def _numpy_globals():
    allowed = [np.ndarray, np.dtype, np.core.multiarray._reconstruct
               if hasattr(np, 'core') else None]
    try:  # numpy >= 1.25 / 2.x
        from numpy._core.multiarray import _reconstruct, scalar
        allowed += [_reconstruct, scalar]
    except ImportError:
        from numpy.core.multiarray import _reconstruct, scalar
        allowed += [_reconstruct, scalar]
    # dtype classes (numpy.dtypes.Float64DType, ...) and scalar types.
    allowed += [type(np.dtype(t)) for t in np.sctypeDict.values()
                if isinstance(t, type)]
    allowed += [t for t in set(np.sctypeDict.values()) if isinstance(t, type)]
    return [a for a in allowed if a is not None]


def allow_mmengine_checkpoints():
    """Add the types of mmengine's resume checkpoints to torch's
    weights-only allow-list (a no-op on torch < 2.4)."""
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return
    from mmengine.logging import HistoryBuffer
    torch.serialization.add_safe_globals([HistoryBuffer] + _numpy_globals())
