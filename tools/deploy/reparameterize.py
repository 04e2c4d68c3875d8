"""Re-parameterize a trained model for deployment and write the deploy
checkpoint with a deploy config that builds and loads it. RepLKNet: every
large-kernel branch (KxK conv-BN + small conv-BN) becomes one biased conv
(with --fuse-conv-bn, every other conv-BN pair of the backbone is fused by
mmcv's ``fuse_conv_bn``). UniRepLKNet: the dilated branches and every BN
fold into one biased conv per block, GRN's bias, the FFN's BN and the layer
scale into its last Linear.

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
                        help='RepLKNet: also fuse every conv-BN pair of the '
                        'backbone')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg_path, ckpt_path = reparameterize(args.config, args.checkpoint,
                                         args.out_dir, args.cfg_options,
                                         args.fuse_conv_bn)
    print(f'deploy config: {cfg_path}\ndeploy checkpoint: {ckpt_path}')


if __name__ == '__main__':
    main()
