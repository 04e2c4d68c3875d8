"""Run a segmentor or detector on one image and save the painted result
(segmentation overlay, or boxes and masks), through mmseg's / mmdet's
inferencers.

  python demo/image_demo.py IMAGE CONFIG CHECKPOINT --out out.png
"""
import argparse
import os
import os.path as osp

import cv2
from mmengine.config import Config

from mmrep.utils import task_of


def build_inferencer(config, checkpoint, device):
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None  # the checkpoint holds all weights
    if task_of(cfg) == 'seg':
        from mmseg.apis import MMSegInferencer
        return MMSegInferencer(model=cfg, weights=checkpoint, device=device)
    from mmdet.apis import DetInferencer
    return DetInferencer(model=cfg, weights=checkpoint, device=device,
                         show_progress=False)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('image')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', default='out.png')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detection: lowest score drawn')
    args = parser.parse_args(argv)
    if not osp.isfile(args.image):
        raise FileNotFoundError(f'image {args.image!r} does not exist')
    inferencer = build_inferencer(args.config, args.checkpoint, args.device)
    kwargs = dict(return_vis=True)
    if type(inferencer).__name__ == 'DetInferencer':
        kwargs.update(pred_score_thr=args.score_thr, no_save_vis=True)
    result = inferencer(args.image, **kwargs)
    if osp.dirname(args.out):
        os.makedirs(osp.dirname(args.out), exist_ok=True)
    vis = result['visualization']  # one RGB array, or a list of them
    vis = vis[0] if isinstance(vis, list) else vis
    cv2.imwrite(args.out, vis[..., ::-1])
    print(f'wrote {args.out}')
    return result


if __name__ == '__main__':
    main()
