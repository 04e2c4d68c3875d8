"""Parameters and FLOPs of a config's model, with mmengine's counter (as
mmseg's and mmdet's get_flops tools count them); used by tools/get_flops.py.

Segmentation: the model's tensor forward (backbone + decode head) on one
3xHxW input; parameters with and without the auxiliary head (the paper
counts them without).

Detection: a detector's cost is not one number: a two-stage detector's RoI
heads run once per proposal, so their FLOPs scale with how many proposals
reach them. We count backbone, neck and dense head on one 3xHxW image, and
the RoI heads as mmdet 2.x's ``forward_dummy`` did for the published
numbers (RepLKNet, UniRepLKNet): every bbox head on a stated number of
proposals (default 1000, mmdet's test-time RPN ``max_per_img``), every mask
head on the first 100 of them. (mmdet 3.x's tensor forward runs a cascade's
mask heads on all proposals, 3.6x the RoI FLOPs of the published
convention at 1000; Mask R-CNN's on the first 100, as here.)
"""
import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer

from mmrep.utils import build_model, task_of

DEFAULT_PROPOSALS = 1000
MASK_PROPOSALS = 100


class _Call(nn.Module):
    """Wrap ``fn(*inputs)`` so FlopAnalyzer can trace it; the traced run's
    result is kept in ``outputs`` (the next part's inputs)."""

    def __init__(self, module, fn):
        super().__init__()
        self.module = module
        self.fn = fn
        self.outputs = None

    def forward(self, *inputs):
        self.outputs = self.fn(*inputs)
        return self.outputs


def count_flops(module, fn, *inputs):
    """FLOPs of ``fn(*inputs)`` (``module``'s computation) by mmengine's
    FlopAnalyzer, and what the call returned."""
    call = _Call(module, fn)
    analyzer = FlopAnalyzer(call, inputs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer.total(), call.outputs


def random_proposals(num, height, width, seed=0):
    """``num`` random boxes (x1, y1, x2, y2) inside the image."""
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(num, 2, generator=gen) * torch.tensor([width, height])
    wh = torch.rand(num, 2, generator=gen) * torch.tensor([width, height]) / 4
    x2y2 = torch.minimum(xy + wh + 1, torch.tensor([width, height]))
    return torch.cat([xy, x2y2], dim=1)


def num_params(module):
    """Parameters of ``module`` (0 for None)."""
    return sum(p.numel() for p in module.parameters()) if module else 0


@torch.no_grad()
def count_segmentor(model, shape):
    """Params (all, and without the auxiliary head) and FLOPs of the
    backbone + decode head forward at ``shape`` = (H, W)."""
    aux = getattr(model, 'auxiliary_head', None)
    total_params = num_params(model)
    # the FLOPs of mmengine's get_model_complexity_info, without its
    # second (activation-counting) pass over the model
    flops, _ = count_flops(model, model, torch.rand(1, 3, *shape))
    return dict(params=total_params - num_params(aux),
                params_with_aux=total_params,
                backbone_params=num_params(model.backbone), flops=flops)


def roi_heads_forward(roi, feats, rois):
    """The RoI heads' computation as mmdet 2.x's ``forward_dummy``: every
    bbox head (each stage of a cascade) on all ``rois``, every mask head on
    the first ``MASK_PROPOSALS``."""
    stages = [(i, ) for i in range(roi.num_stages)] if hasattr(
        roi, 'num_stages') else [()]
    outputs = []
    if roi.with_bbox:
        outputs += [roi._bbox_forward(*stage, feats, rois)['cls_score']
                    for stage in stages]
    if roi.with_mask:
        outputs += [roi._mask_forward(*stage, feats, rois[:MASK_PROPOSALS])
                    ['mask_preds'] for stage in stages]
    return tuple(outputs)


@torch.no_grad()
def count_detector(model, shape, num_proposals=DEFAULT_PROPOSALS):
    """Params and FLOPs of an mmdet detector at ``shape`` = (H, W).

    Returns a dict with ``params`` and per-part ``*_flops`` (backbone,
    neck, dense head: RPN or FCOS-like head, roi_head) and their sum
    ``flops``; ``num_proposals`` is recorded for two-stage models.
    """
    from mmdet.structures.bbox import bbox2roi
    h, w = shape
    image = torch.rand(1, 3, h, w)
    result = dict(params=num_params(model),
                  backbone_params=num_params(model.backbone))
    # each part runs once: its traced run's outputs feed the next part
    result['backbone_flops'], feats = count_flops(
        model.backbone, model.backbone, image)
    result['neck_flops'], feats = count_flops(
        model.neck, lambda *x: model.neck(x), *feats)
    dense = model.rpn_head if hasattr(model, 'rpn_head') else model.bbox_head
    result['dense_head_flops'], _ = count_flops(dense, lambda *x: dense(x),
                                                *feats)
    if hasattr(model, 'roi_head'):
        rois = bbox2roi([random_proposals(num_proposals, h, w)])
        roi = model.roi_head
        result['roi_head_flops'], _ = count_flops(
            roi, lambda *x: roi_heads_forward(roi, x, rois), *feats)
        result['num_proposals'] = num_proposals
    result['flops'] = sum(v for k, v in result.items()
                          if k.endswith('_flops'))
    return result


def count_model(cfg, shape, num_proposals=DEFAULT_PROPOSALS):
    """Params and FLOPs of the model of ``cfg`` (a segmentor or detector)
    at ``shape`` = (H, W); see :func:`count_segmentor` and
    :func:`count_detector`."""
    model = build_model(cfg).eval()
    if task_of(cfg) == 'seg':
        return count_segmentor(model, shape)
    return count_detector(model, shape, num_proposals)
