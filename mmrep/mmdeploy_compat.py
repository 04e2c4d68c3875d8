"""MMDeploy 1.3.x on the torch mmrep runs on, for mmrep's models: the few
patches it needs.

MMDeploy's last release (1.3.1, December 2023) predates torch 2.9, which
changed three things its export path relies on:

* ``torch_onnx_export_torchscript``: ``torch.onnx.export`` defaults to the
  new exporter (``dynamo=True``) from torch 2.9; MMDeploy's rewriters
  (function, symbolic, module) work with the TorchScript exporter only.
  Inside MMDeploy's own rewriting context, ``torch.onnx.export`` gets
  ``dynamo=False`` (a rewriter registered with MMDeploy's
  ``FUNCTION_REWRITER``, so it is active only while MMDeploy exports).
* ``symbolic_opset9_cast_long``: MMDeploy's RoIAlign symbolic (every
  two-stage detector) imports ``_cast_Long`` from
  ``torch.onnx.symbolic_opset9``, which torch removed; it is the ONNX
  ``Cast`` to int64 it always was.
* ``fx_wrapped_fns_list``: MMDeploy's function rewriter treats
  ``torch.fx``'s ``_wrapped_fns_to_patch`` as the list of
  ``(globals, name)`` it was; now it is a dict keyed by
  ``(id(globals), name)``, and leaving the rewriting context fails with
  ``KeyError: -1`` (hiding the real error and leaving functions patched).
  MMDeploy's module gets a list view of the dict.

Two more are about mmrep's models, not torch:

* ``adaptive_avg_pool2d_exact``: MMDeploy rewrites ``adaptive_avg_pool2d``
  as ``avg_pool2d`` with kernel and stride ``size // output_size``, which
  takes other windows, and another output size, unless the map size is a
  multiple of the output size: UperNet's 3x3 and 6x6 pools of a 512
  image's 16x16 map come out as 3x3 of other windows and as 8x8. For the
  backends mmrep ships configs for (ONNX Runtime, TensorRT) and OpenVINO,
  the pool exports exactly instead, for any size
  (:func:`mmrep.apis.onnx.adaptive_avg_pool2d`).
* ``cascade_per_class_regression``: MMDeploy's Cascade RoI head rewrite
  asserts class-agnostic box regression in every stage but the last; the
  papers' Cascade Mask R-CNN recipe (4conv1fc, GIoU) regresses per class.
  Such a stage's boxes are refined with the deltas of each RoI's best
  class, background left out, as mmdet's ``regress_by_class`` does; then
  MMDeploy's own rewrite runs.

Each patch is applied only where its feature check finds the change, and
only to MMDeploy 1.3.x (any other version is logged and left alone).
``import mmrep`` applies them when MMDeploy is imported (now, or later:
a one-shot import hook), so MMDeploy's own Python API and its
``tools/deploy.py`` work on mmrep's configs unchanged. Nothing here
imports MMDeploy unless it is being imported anyway.
"""
import importlib.abc
import importlib.util
import inspect
import logging
import sys

KNOWN_VERSIONS = ('1.3.',)
INSTALL_HINT = 'run `make deploy-deps` (docs/deployment.md)'
_APPLIED = []


def check_mmdeploy():
    """Return MMDeploy's version; raise a clear ImportError when it is
    missing or a version these patches do not know."""
    try:
        import mmdeploy
    except ImportError as exc:
        raise ImportError(f'MMDeploy is not installed ({exc}); '
                          f'{INSTALL_HINT}') from None
    version = mmdeploy.__version__
    if not version.startswith(KNOWN_VERSIONS):
        raise ImportError(f'MMDeploy {version} is not a version mmrep '
                          f'supports (1.3.x); {INSTALL_HINT}')
    return version


def _needs_dynamo_false():
    import torch
    param = inspect.signature(torch.onnx.export).parameters.get('dynamo')
    return param is not None and param.default is not False


def _patch_torch_onnx_export():
    from mmdeploy.core import FUNCTION_REWRITER

    @FUNCTION_REWRITER.register_rewriter('torch.onnx.export')
    def torch_onnx_export__torchscript(*args, **kwargs):
        ctx = FUNCTION_REWRITER.get_context()
        kwargs.setdefault('dynamo', False)
        return ctx.origin_func(*args, **kwargs)


def _needs_cast_long():
    import torch.onnx.symbolic_opset9 as opset9
    return not hasattr(opset9, '_cast_Long')


def _patch_cast_long():
    import torch
    import torch.onnx.symbolic_opset9 as opset9

    def _cast_Long(g, input, non_blocking):  # noqa: N802 (torch's name)
        return g.op('Cast', input,
                    to_i=torch._C._onnx.TensorProtoDataType.INT64)

    opset9._cast_Long = _cast_Long


class WrappedFnsList:
    """The list of ``(globals, name)`` MMDeploy expects, over torch.fx's
    dict ``{(id(globals), name): globals}`` (insertion order is the list's
    order)."""

    def __init__(self, table):
        self.table = table

    def __len__(self):
        return len(self.table)

    def __iter__(self):
        return ((fn_globals, name)
                for (_, name), fn_globals in list(self.table.items()))

    def append(self, item):
        fn_globals, name = item
        self.table[(id(fn_globals), name)] = fn_globals

    def pop(self, index=-1):
        if index != -1:
            raise IndexError('WrappedFnsList pops the last entry only')
        key = next(reversed(self.table))
        return self.table.pop(key), key[1]


def _needs_wrapped_fns_list():
    from torch.fx import _symbolic_trace
    return isinstance(_symbolic_trace._wrapped_fns_to_patch, dict)


def _patch_wrapped_fns():
    from mmdeploy.core.rewriters import function_rewriter
    from torch.fx import _symbolic_trace
    function_rewriter._wrapped_fns_to_patch = WrappedFnsList(
        _symbolic_trace._wrapped_fns_to_patch)


POOL = 'torch.nn.functional.adaptive_avg_pool2d'
# the backends mmrep's own rewriters serve; a backend's rewriter wins over
# MMDeploy's default one
BACKENDS = ('onnxruntime', 'tensorrt', 'openvino')


def _rewrites_pool_inexactly():
    from mmdeploy.core import FUNCTION_REWRITER
    return POOL in FUNCTION_REWRITER._registry._rewrite_records


def _patch_exact_pool():
    from mmdeploy.core import FUNCTION_REWRITER

    def adaptive_avg_pool2d__exact(input, output_size):
        from mmrep.apis.onnx import adaptive_avg_pool2d
        return adaptive_avg_pool2d(input, output_size)

    for backend in BACKENDS:
        FUNCTION_REWRITER.register_rewriter(
            POOL, backend=backend)(adaptive_avg_pool2d__exact)


CASCADE = 'mmdet.models.roi_heads.cascade_roi_head.CascadeRoIHead'
CASCADE_REWRITE = ('mmdeploy/codebase/mmdet/models/roi_heads/'
                   'cascade_roi_head.py')


def _cascade_needs_class_agnostic():
    # read, not imported: importing it imports MMDeploy's whole mmdet codebase
    import os.path as osp

    import mmdeploy
    path = osp.join(osp.dirname(osp.dirname(mmdeploy.__file__)),
                    CASCADE_REWRITE)
    if not osp.isfile(path):
        return False
    with open(path) as f:
        return 'assert self.bbox_head[i].reg_class_agnostic' in f.read()


def best_class_deltas(cls_score, bbox_pred, encode_size):
    """The deltas of each RoI's best class (background, the last score,
    left out) from per-class ``bbox_pred`` (N, num_classes * encode_size),
    as mmdet's ``BBoxHead.regress_by_class``."""
    import torch
    label = cls_score[:, :-1].argmax(dim=1, keepdim=True)
    index = label * encode_size + torch.arange(
        encode_size, device=bbox_pred.device)
    return bbox_pred.gather(1, index)


def cascade_roi_head__predict_bbox_per_class(self, *args, **kwargs):
    """MMDeploy's Cascade ``predict_bbox``, with the per-class stages before
    the last giving their best class's deltas while it runs."""
    from mmdeploy.codebase.mmdet.models.roi_heads.cascade_roi_head import \
        cascade_roi_head__predict_bbox
    per_class = [i for i, head in enumerate(self.bbox_head[:-1])
                 if not head.reg_class_agnostic]
    bbox_forward = self._bbox_forward

    def best_class_bbox_forward(stage, *forward_args, **forward_kwargs):
        results = bbox_forward(stage, *forward_args, **forward_kwargs)
        if stage in per_class:
            head = self.bbox_head[stage]
            cls_score = results['cls_score']
            if head.custom_activation:
                cls_score = head.loss_cls.get_activation(cls_score)
            results['bbox_pred'] = best_class_deltas(
                cls_score, results['bbox_pred'], head.bbox_coder.encode_size)
        return results

    self._bbox_forward = best_class_bbox_forward
    for i in per_class:
        self.bbox_head[i].reg_class_agnostic = True
    try:
        return cascade_roi_head__predict_bbox(self, *args, **kwargs)
    finally:
        del self._bbox_forward
        for i in per_class:
            self.bbox_head[i].reg_class_agnostic = False


def _patch_cascade():
    from mmdeploy.core import FUNCTION_REWRITER
    for backend in BACKENDS:
        FUNCTION_REWRITER.register_rewriter(
            f'{CASCADE}.predict_bbox',
            backend=backend)(cascade_roi_head__predict_bbox_per_class)


# name: (feature check, patch)
PATCHES = {
    'torch_onnx_export_torchscript': (_needs_dynamo_false,
                                      _patch_torch_onnx_export),
    'symbolic_opset9_cast_long': (_needs_cast_long, _patch_cast_long),
    'fx_wrapped_fns_list': (_needs_wrapped_fns_list, _patch_wrapped_fns),
    'adaptive_avg_pool2d_exact': (_rewrites_pool_inexactly,
                                  _patch_exact_pool),
    'cascade_per_class_regression': (_cascade_needs_class_agnostic,
                                     _patch_cascade),
}


def apply_patches():
    """Apply every patch this torch needs to the imported MMDeploy (once);
    return the names applied. An unknown MMDeploy version is logged and
    left alone."""
    if _APPLIED:
        return list(_APPLIED[0])
    import torch
    from mmengine.logging import print_log
    try:
        version = check_mmdeploy()
    except ImportError as exc:
        print_log(f'mmrep: MMDeploy patches not applied: {exc}',
                  logger='current', level=logging.WARNING)
        _APPLIED.append(())
        return []
    applied = []
    for name, (needed, patch) in PATCHES.items():
        if needed():
            patch()
            applied.append(name)
    _APPLIED.append(tuple(applied))
    print_log(f'mmrep: MMDeploy {version} patched for torch '
              f'{torch.__version__}: {", ".join(applied) or "nothing needed"}',
              logger='current')
    return applied


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Applies the patches right after ``mmdeploy`` itself is imported;
    removes itself at that import."""

    def find_spec(self, fullname, path, target=None):
        if fullname != 'mmdeploy':
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            apply_patches()

        spec.loader.exec_module = exec_and_patch
        return spec


def install():
    """Patch MMDeploy now if it is imported, else when it is (if ever)."""
    if 'mmdeploy' in sys.modules:
        apply_patches()
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
