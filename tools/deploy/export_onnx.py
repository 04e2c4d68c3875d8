"""Export a segmentor's re-parameterized backbone + decode head to ONNX
(``mmrep.apis.onnx``).

  python tools/deploy/export_onnx.py CONFIG CHECKPOINT OUT.onnx --shape 512 512
"""
import argparse

from mmengine.config import DictAction

from mmrep.apis.onnx import export_segmentor


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out')
    parser.add_argument('--shape', type=int, nargs=2, default=[512, 512],
                        metavar=('H', 'W'))
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    export_segmentor(args.config, args.checkpoint, args.out,
                     tuple(args.shape), args.opset, args.cfg_options)
    print(f'wrote {args.out} (input image: N x 3 x {args.shape[0]} x '
          f'{args.shape[1]}, dynamic N)')


if __name__ == '__main__':
    main()
