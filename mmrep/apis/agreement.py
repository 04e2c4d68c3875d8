"""How far two models' predictions agree: boxes matched by label and IoU,
their masks' IoU, segmentation labels pixel by pixel. Used to check a deploy
form (re-parameterized, exported to ONNX) against the trained model."""
import torch


def box_iou(a, b):
    """IoU matrix of two (N, 4) and (M, 4) xyxy box sets."""
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)

    def area(t):
        return (t[:, 2:] - t[:, :2]).prod(-1)

    return inter / (area(a)[:, None] + area(b)[None] - inter)


def match_boxes(pa, pb, score_thr=0.3, iou_thr=0.95, nms_iou=0.5,
                tie=1e-3):
    """For each box of ``pa`` (InstanceData) scoring >= ``score_thr``: the
    index of its match in ``pb``, or -1. A match has the same label and
    IoU > ``iou_thr`` (the best such), or is a near-tie NMS may have kept
    instead (same label, score within ``tie``, IoU > ``nms_iou``)."""
    keep = (pa.scores >= score_thr).nonzero().flatten()
    if len(keep) == 0 or len(pb.bboxes) == 0:
        return keep, torch.full_like(keep, -1)
    overlaps = box_iou(pa.bboxes[keep].float(), pb.bboxes.float())
    same = pa.labels[keep, None] == pb.labels[None]
    tied = (pa.scores[keep, None] - pb.scores[None]).abs() < tie
    close = same & (overlaps > iou_thr)
    ok = close | (same & tied & (overlaps > nms_iou))
    best = torch.where(ok, overlaps, torch.full_like(overlaps, -1.))
    return keep, torch.where(ok.any(1), best.argmax(1),
                             torch.full_like(keep, -1))


def unmatched(pa, pb, **kwargs):
    """Boxes of ``pa`` scoring >= score_thr that ``pb`` lacks (see
    :func:`match_boxes`), as lists."""
    keep, match = match_boxes(pa, pb, **kwargs)
    return pa.bboxes[keep][match < 0].tolist()


def mask_iou(a, b):
    """IoU of two boolean masks of one size (1 where both are empty)."""
    a, b = a.bool(), b.bool()
    union = (a | b).sum()
    return 1. if union == 0 else ((a & b).sum() / union).item()


def detection_agreement(want, got, score_thr=0.3, iou_thr=0.9):
    """Agreement of two lists of detection samples (``want``: the reference)
    as counts: confident boxes of each found in the other, and the mean
    mask IoU of the matched pairs (when both have masks)."""
    found, total, found_back, total_back, ious = 0, 0, 0, 0, []
    for x, y in zip(want, got):
        pa, pb = x.pred_instances, y.pred_instances
        keep, match = match_boxes(pa, pb, score_thr, iou_thr)
        found, total = found + int((match >= 0).sum()), total + len(keep)
        back_keep, back = match_boxes(pb, pa, score_thr, iou_thr)
        found_back += int((back >= 0).sum())
        total_back += len(back_keep)
        if 'masks' in pa and 'masks' in pb:
            ious += [mask_iou(pa.masks[i], pb.masks[j])
                     for i, j in zip(keep.tolist(), match.tolist()) if j >= 0]
    return dict(boxes_found=found, boxes=total, boxes_found_back=found_back,
                boxes_back=total_back,
                mask_iou=sum(ious) / len(ious) if ious else None)


def segmentation_agreement(want, got):
    """The fraction of pixels whose labels agree, over lists of samples."""
    same = total = 0
    for x, y in zip(want, got):
        a, b = x.pred_sem_seg.data, y.pred_sem_seg.data
        if a.shape != b.shape:
            raise ValueError(f'label maps of different sizes: '
                             f'{tuple(a.shape)} and {tuple(b.shape)}')
        same += int((a == b).sum())
        total += a.numel()
    return dict(pixels_agree=same / total)
