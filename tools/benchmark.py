"""Model throughput: training step (forward + backward + SGD step) and
inference images/s, in training form and re-parameterized (deploy) form,
and peak training memory, for a config's backbone alone or its whole
segmentor/detector, once per large-kernel implementation; optionally timm's
ConvNeXt-B and Swin-B side by side. Writes JSON and a markdown table.

  python tools/benchmark.py \
      configs/upernet/upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py \
      --backbone-only --batch 4 --shape 224 224 --impls torch auto \
      [--compile] --json work_dirs/bench/model.json --md work_dirs/bench/model.md
"""
import argparse
import copy

import torch
from mmengine.config import DictAction

from mmrep.benchmark import environment, measure, write_results
from mmrep.ops import IMPLS
from mmrep.utils import build_model, drop_pretrained, read_config

COLUMNS = ['model', 'impl', 'compiled', 'batch', 'shape', 'amp',
           'train_img_s', 'infer_img_s', 'infer_deploy_img_s', 'compile_s',
           'peak_train_mem_gb']
TIMM_MODELS = ('convnext_base', 'swin_base_patch4_window7_224')


def build(cfg, backbone_only, impl):
    cfg = copy.deepcopy(cfg)
    drop_pretrained(cfg.model)
    if impl:
        cfg.model.backbone.large_kernel_impl = impl
    return build_model(cfg, backbone_only)


def timm_models():
    try:
        import timm
    except ImportError:
        print('timm is not installed: skipping ConvNeXt-B and Swin-B')
        return []
    return [(n, timm.create_model(n, pretrained=False)) for n in TIMM_MODELS]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--backbone-only', action='store_true')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224])
    parser.add_argument('--amp', action='store_true',
                        help='bfloat16 autocast')
    parser.add_argument('--impls', nargs='+', choices=IMPLS, default=[None],
                        help="large-kernel conv implementations, each timed "
                        "in turn (default: the config's)")
    parser.add_argument('--compile', action='store_true',
                        help='after each eager row, the same model under '
                        'torch.compile (compile_s: the first training step, '
                        'compilation included)')
    parser.add_argument('--timm', action='store_true',
                        help='also time timm ConvNeXt-B and Swin-B')
    parser.add_argument('--device', default=None)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--json')
    parser.add_argument('--md')
    args = parser.parse_args(argv)
    device = torch.device(args.device or
                          ('cuda' if torch.cuda.is_available() else 'cpu'))
    cfg = read_config(args.config, args.cfg_options)
    family = cfg.model.backbone.type.split('.')[-1]
    arch = cfg.model.backbone.get('arch', 'default')
    arch = arch if isinstance(arch, str) else 'custom'
    name = (f'{family}-{arch}' if args.backbone_only else
            f'{cfg.model.type} + {family}-{arch}')
    rows = []
    for impl in args.impls:
        for compiled in ([False, True] if args.compile else [False]):
            model = build(cfg, args.backbone_only, impl)
            rows.append(dict(measure(
                name, model, args.batch, args.shape, device,
                not args.backbone_only, args.amp, args.warmup, args.repeats,
                compile=compiled), impl=impl or cfg.model.backbone.get(
                    'large_kernel_impl', 'auto')))
            print(rows[-1], flush=True)
            del model
    if args.timm:
        for n, m in timm_models():
            rows.append(measure(n, m, args.batch, args.shape, device, False,
                                args.amp, args.warmup, args.repeats))
            print(rows[-1], flush=True)
    results = dict(environment=environment(device), rows=rows,
                   command=' '.join(['tools/benchmark.py'] +
                                    (argv if argv is not None else [])))
    print(write_results(results, args.json, args.md, 'Model throughput',
                        COLUMNS))
    return results


if __name__ == '__main__':
    main()
