"""Count parameters and FLOPs of a config's model with mmengine's
FlopAnalyzer, the counter of the ``get_model_complexity_info`` that mmseg's
and mmdet's get_flops tools call (the same FLOPs, in one pass).

Segmentation: the model's tensor forward (backbone + decode head) on one
3xHxW input; parameters are given with and without the auxiliary head (the
paper counts them without). Detection: backbone, neck and heads are reported
separately; a two-stage model's RoI heads are counted on --num-proposals
proposals (default 1000), see ``mmrep.analysis.complexity``.
"""
import argparse

from mmengine.config import DictAction

from mmrep.analysis import DEFAULT_PROPOSALS, count_model
from mmrep.utils import drop_pretrained, read_config


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs=2, default=[512, 2048],
                        metavar=('H', 'W'), help='input size')
    parser.add_argument('--num-proposals', type=int,
                        default=DEFAULT_PROPOSALS,
                        help='proposals fed to two-stage RoI heads')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = read_config(args.config, args.cfg_options)
    drop_pretrained(cfg.model)  # weights do not change counts
    result = count_model(cfg, tuple(args.shape), args.num_proposals)
    print(f'config: {args.config}\ninput: 3x{args.shape[0]}x{args.shape[1]}')
    for key, value in result.items():
        if key.endswith('flops'):
            print(f'{key}: {value / 1e9:.2f} GFLOPs')
        elif 'params' in key:
            print(f'{key}: {value / 1e6:.2f}M')
        else:
            print(f'{key}: {value}')
    return result


if __name__ == '__main__':
    main()
