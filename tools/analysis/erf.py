"""Effective receptive field (the paper's Figure 1 analysis): write the
(log-scaled) heat map of a backbone's contribution map over a folder of
images and print the high-contribution area ratios (see
``mmrep.analysis.erf``).

  python tools/analysis/erf.py CONFIG [CHECKPOINT] --images DIR --out erf.png
"""
import argparse
import glob
import os.path as osp

from mmengine.config import DictAction

from mmrep.analysis.erf import (area_ratios, build_backbone,
                                effective_receptive_field, heat_map)
from mmrep.utils import read_config


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
    cfg = read_config(args.config, args.cfg_options)
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
