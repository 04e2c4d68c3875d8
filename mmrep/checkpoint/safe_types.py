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

Older torch releases allow less, detected by feature: without
``torch.serialization.add_safe_globals`` (torch < 2.4) none of these types
can be allowed, and before it takes ``(function, name)`` pairs (2.6) the
restricted ``getattr`` cannot; files holding them are then refused with the
torch they need (:func:`needs_newer_torch`), the plain weights files load
as everywhere.
"""
import _codecs
import argparse
import typing

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
    # protocol 2 pickles a scalar's bytes as _codecs.encode(str, 'latin1'),
    # which torch allows by itself from 2.6 only
    return [_reconstruct, scalar, np.ndarray, np.dtype, _codecs.encode] + [
        type(d) for d in dtypes]


_STATISTICS = ('min', 'max', 'mean', 'current')


def _history_buffer_getattr(obj, name):
    """``getattr`` restricted to what HistoryBuffer pickles."""
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and name in _STATISTICS:
        return getattr(obj, name)
    raise RuntimeError(f'refusing getattr({type(obj).__name__}, {name!r}) '
                       f'while loading a checkpoint')


def _has_add_safe_globals():
    return hasattr(torch.serialization, 'add_safe_globals')


def _takes_named_functions():
    """Whether add_safe_globals takes ``(function, 'module.name')`` pairs
    (torch >= 2.6, which says so in its signature); an older one stores the
    pair and then fails on every weights-only load that meets a global it
    does not know."""
    if not _has_add_safe_globals():
        return False
    hint = typing.get_type_hints(torch.serialization.add_safe_globals).get(
        'safe_globals')
    return _mentions_tuple(hint)


def _mentions_tuple(hint):
    return typing.get_origin(hint) is tuple or any(
        _mentions_tuple(arg) for arg in typing.get_args(hint))


def _qualified(obj):
    return f'{obj.__module__}.{obj.__qualname__}'


def needs_newer_torch(global_name):
    """For a global that this torch refused although mmrep allows it on a
    newer one: 'torch >= X (feature)'; None otherwise."""
    from mmengine.logging import HistoryBuffer
    types = {_qualified(t) for t in
             [HistoryBuffer, argparse.Namespace] + _numpy_globals()}
    if global_name in types and not _has_add_safe_globals():
        return 'torch >= 2.4 (torch.serialization.add_safe_globals)'
    if global_name == 'builtins.getattr' and not _takes_named_functions():
        return ('torch >= 2.6 (add_safe_globals of a (function, name) '
                'pair)')
    return None


def allow_checkpoint_types():
    """Add the types above to torch's weights-only allow-list, as far as
    this torch can (see the module docstring)."""
    if not _has_add_safe_globals():
        return
    from mmengine.logging import HistoryBuffer
    entries = [HistoryBuffer, argparse.Namespace] + _numpy_globals()
    if _takes_named_functions():
        entries.append((_history_buffer_getattr, 'builtins.getattr'))
    torch.serialization.add_safe_globals(entries)
