"""Effective receptive field (the paper's Figure 1 analysis).

For every image, the gradient of the central pixel of the last stage's
output (summed over channels) with respect to the input; its absolute value,
summed over the colour channels, is accumulated over the images. The tool
writes the (log-scaled) heat map and prints the high-contribution area ratios:
for a threshold t, the smallest fraction of the input area, taken from the
centre outwards in squares, whose contribution reaches t of the total.

  python tools/analysis/erf.py CONFIG [CHECKPOINT] --images DIR --out erf.png
"""
import argparse
import glob
import os.path as osp

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction

from mmrep.checkpoint import load_backbone_checkpoint
from mmrep.utils import build_model

THRESHOLDS = (0.2, 0.3, 0.5, 0.99)
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])


def build_backbone(cfg, checkpoint=None):
    init_cfg = cfg.model.backbone.get('init_cfg') or {}
    if checkpoint or init_cfg.get('type') == 'Pretrained':
        cfg.model.backbone.init_cfg = None
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
    """|d (centre of the last map) / d input|, summed over channels."""
    image = image.clone().requires_grad_()
    out = backbone(image)[-1]
    h, w = out.shape[-2:]
    out[0, :, h // 2, w // 2].sum().backward()
    return image.grad.abs().sum(1)[0]


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?',
                        help='backbone weights (any supported format); '
                        'random initialization when omitted')
    parser.add_argument('--images', required=True, help='folder of images')
    parser.add_argument('--num-images', type=int, default=50)
    parser.add_argument('--size', type=int, default=1024,
                        help='images are resized to size x size')
    parser.add_argument('--out', default='erf.png')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    paths = sorted(p for ext in ('jpg', 'jpeg', 'png')
                   for p in glob.glob(osp.join(args.images, f'*.{ext}')))
    if not paths:
        raise FileNotFoundError(f'--images {args.images!r} holds no images')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    backbone = build_backbone(cfg, args.checkpoint)
    contrib = effective_receptive_field(backbone, paths[:args.num_images],
                                        args.size)
    heat_map(contrib, args.out)
    ratios = area_ratios(contrib)
    print(f'{min(len(paths), args.num_images)} images at {args.size}x'
          f'{args.size}; heat map: {args.out}')
    for t, ratio in ratios.items():
        print(f'high-contribution area ratio (t={t}): {ratio:.4f}')
    return ratios


if __name__ == '__main__':
    main()
