"""Re-parameterize a trained model for deployment: merge every large-kernel
branch (KxK conv-BN + small conv-BN) into one biased conv (and, with
--fuse-conv-bn, fold every other conv-BN pair of the backbone), and write the
deploy checkpoint with a deploy config that builds and loads it.

  python tools/deploy/reparameterize.py CONFIG CHECKPOINT OUT_DIR [--fuse-conv-bn]
  python tools/test.py OUT_DIR/<config>_deploy.py OUT_DIR/<config>_deploy.pth
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import load_checkpoint

from mmrep.utils import build_model


def build_trained(cfg, checkpoint):
    """The config's model with the checkpoint loaded strictly, in eval."""
    cfg.model.backbone.init_cfg = None
    model = build_model(cfg)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.eval()


def reparameterize(config, checkpoint, out_dir, cfg_options=None,
                   fuse_bn=False):
    """Write ``<name>_deploy.pth`` and ``<name>_deploy.py`` into
    ``out_dir``; return their paths."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = build_trained(cfg, checkpoint)
    model.backbone.switch_to_deploy()
    if fuse_bn:
        model.backbone.fuse_conv_bn()
    name = osp.splitext(osp.basename(config))[0]
    os.makedirs(out_dir, exist_ok=True)
    ckpt_path = osp.join(out_dir, f'{name}_deploy.pth')
    torch.save({'meta': dict(reparameterized_from=str(checkpoint)),
                'state_dict': model.state_dict()}, ckpt_path)
    cfg.model.backbone.deploy = True
    cfg.model.backbone.fuse_conv_bn = fuse_bn
    cfg.load_from = ckpt_path
    cfg_path = osp.join(out_dir, f'{name}_deploy.py')
    cfg.dump(cfg_path)
    return cfg_path, ckpt_path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out_dir')
    parser.add_argument('--fuse-conv-bn', action='store_true',
                        help='also fold every conv-BN pair of the backbone')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg_path, ckpt_path = reparameterize(args.config, args.checkpoint,
                                         args.out_dir, args.cfg_options,
                                         args.fuse_conv_bn)
    print(f'deploy config: {cfg_path}\ndeploy checkpoint: {ckpt_path}')


if __name__ == '__main__':
    main()
