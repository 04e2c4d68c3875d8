"""Re-parameterize a trained model for deployment: merge every large-kernel
branch (KxK conv-BN + small conv-BN) into one biased conv (and, with
--fuse-conv-bn, fuse every other conv-BN pair of the backbone with mmcv's
``fuse_conv_bn``), and write the deploy checkpoint with a deploy config that
builds and loads it.

  python tools/deploy/reparameterize.py CONFIG CHECKPOINT OUT_DIR [--fuse-conv-bn]
  python tools/test.py OUT_DIR/<config>_deploy.py OUT_DIR/<config>_deploy.pth
"""
import argparse

from mmengine.config import DictAction

from mmrep.apis import reparameterize


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out_dir')
    parser.add_argument('--fuse-conv-bn', action='store_true',
                        help='also fuse every conv-BN pair of the backbone')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg_path, ckpt_path = reparameterize(args.config, args.checkpoint,
                                         args.out_dir, args.cfg_options,
                                         args.fuse_conv_bn)
    print(f'deploy config: {cfg_path}\ndeploy checkpoint: {ckpt_path}')


if __name__ == '__main__':
    main()
