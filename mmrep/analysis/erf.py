"""Effective receptive field (the paper's Figure 1 analysis); used by
tools/analysis/erf.py.

For every image, the gradient of the central pixel of the last stage's
output (ReLU, then summed over channels) with respect to the input; its
positive part, summed over the colour channels, is accumulated over the
images - the official RepLKNet script's definition (``erf/visualize_erf.py``
of the RepLKNet repository). The ReLU matters for backbones whose outputs are
LayerNorm-ed (UniRepLKNet): their plain channel sum is constant, its gradient
zero. The tool writes the (log-scaled) heat map and prints the
high-contribution area ratios: for a threshold t, the smallest fraction of
the input area, taken from the centre outwards in squares, whose
contribution reaches t of the total.
"""
import cv2
import numpy as np
import torch
import torch.nn.functional as F

from mmrep.checkpoint import load_backbone_checkpoint
from mmrep.utils import build_model, drop_pretrained

THRESHOLDS = (0.2, 0.3, 0.5, 0.99)
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])


def build_backbone(cfg, checkpoint=None):
    drop_pretrained(cfg.model)  # the given checkpoint or none
    backbone = build_model(cfg, backbone_only=True)
    if checkpoint:
        load_backbone_checkpoint(backbone, checkpoint)
    else:  # the config's random initialization (e.g. Kaiming)
        backbone.init_weights()
    return backbone.eval()


def load_image(path, size):
    img = cv2.imread(path)
    if img is None:
        raise FileNotFoundError(f'cannot read image {path!r}')
    img = cv2.resize(img, (size, size))[..., ::-1]  # RGB
    img = (img - MEAN) / STD
    return torch.from_numpy(img.transpose(2, 0, 1).copy()).float()[None]


def contribution_map(backbone, image):
    """relu(d sum(relu(centre of the last map)) / d input), summed over the
    colour channels."""
    image = image.clone().requires_grad_()
    out = backbone(image)[-1]
    h, w = out.shape[-2:]
    F.relu(out[0, :, h // 2, w // 2]).sum().backward()
    return F.relu(image.grad).sum(1)[0]


def area_ratios(contrib, thresholds=THRESHOLDS):
    """Smallest centred square covering fraction t of the contribution, as a
    fraction of the whole area, for each t."""
    contrib = np.asarray(contrib, dtype=np.float64)
    h, w = contrib.shape
    total = contrib.sum()
    cy, cx = h // 2, w // 2
    ratios = {}
    for t in thresholds:
        for r in range(0, max(h, w)):
            window = contrib[max(cy - r, 0):cy + r + 1,
                             max(cx - r, 0):cx + r + 1]
            if window.sum() >= t * total:
                ratios[t] = window.size / contrib.size
                break
        else:
            ratios[t] = 1.0
    return ratios


def heat_map(contrib, out):
    log = np.log10(contrib + 1e-12 * contrib.max() + 1e-30)
    norm = (log - log.min()) / max(log.max() - log.min(), 1e-12)
    cv2.imwrite(out, cv2.applyColorMap((norm * 255).astype(np.uint8),
                                       cv2.COLORMAP_JET))


def effective_receptive_field(backbone, image_paths, size):
    total = None
    for path in image_paths:
        contrib = contribution_map(backbone, load_image(path, size)).numpy()
        total = contrib if total is None else total + contrib
    return total
