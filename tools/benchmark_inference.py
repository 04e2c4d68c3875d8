"""CPU inference of a deployed (re-parameterized) model side by side: mmrep
eager (float32, as tools/test.py runs it), mmrep eager under bfloat16
autocast (on CPUs with native bfloat16), mmrep compiled for serving
(mmrep.apis.compile_for_cpu; float32, and bfloat16 where native), ONNX
Runtime and, when installed, OpenVINO (its default precision, and float32),
on the same weights and input in one process. Outputs are checked against
float32 eager before timing; rounds interleave the runtimes. Writes JSON and
a markdown table with ratios.

  python tools/benchmark_inference.py \\
      configs/upernet/upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py \\
      --backbone-only --batch 1 4 --size 224 512 \\
      --json work_dirs/bench/infer.json --md work_dirs/bench/infer.md
"""
import argparse
import copy
import os.path as osp
import tempfile

import torch
from mmengine.config import DictAction

from mmrep.apis.deploy import build_trained
from mmrep.apis.onnx import SegLogits
from mmrep.benchmark import environment, write_results
from mmrep.benchmark.inference import (RUNTIMES, build_runtimes, compare,
                                       native_bf16, openvino_usable)
from mmrep.utils import build_model, drop_pretrained, read_config, task_of

COLUMNS = ['model', 'input', 'runtime', 'precision', 'ms', 'x_onnxruntime',
           'x_eager', 'rel_err']


def default_runtimes():
    names = ['eager', 'compiled']
    if native_bf16():
        names += ['eager-bf16', 'compiled-bf16']
    names.append('onnxruntime')
    if openvino_usable():
        names += ['openvino', 'openvino-f32']
    return names


def deployed_module(cfg, backbone_only, checkpoint):
    """The re-parameterized backbone, or segmentor as image -> logits, in
    eval mode (random weights without ``checkpoint``)."""
    cfg = copy.deepcopy(cfg)
    if checkpoint:
        model = build_trained(cfg, checkpoint)
    else:
        drop_pretrained(cfg.model)
        model = build_model(cfg)
    model.eval()
    model.backbone.switch_to_deploy()
    if backbone_only:
        return model.backbone, [f'stage{i}' for i in
                                model.backbone.out_indices]
    if task_of(cfg) != 'seg':
        raise ValueError('whole-model inference covers segmentors '
                         '(image -> logits); pass --backbone-only for a '
                         "detector's backbone")
    return SegLogits(model).eval(), ['logits']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--checkpoint', help='trained weights (default: '
                        'random; the times do not depend on them)')
    parser.add_argument('--backbone-only', action='store_true')
    parser.add_argument('--batch', type=int, nargs='+', default=[1])
    parser.add_argument('--size', type=int, nargs='+', default=[224],
                        help='square input sizes')
    parser.add_argument('--runtimes', nargs='+', choices=RUNTIMES,
                        help='default: eager, compiled, eager-bf16 and '
                        'compiled-bf16 where the CPU has native bfloat16, '
                        'onnxruntime, and openvino + openvino-f32 when '
                        'installed (not beside an LD_PRELOAD malloc)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--work-dir', help='where the ONNX files go '
                        '(default: a temporary directory)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--json')
    parser.add_argument('--md')
    args = parser.parse_args(argv)
    names = args.runtimes or default_runtimes()
    if 'eager' not in names:
        names = ['eager'] + names  # the reference every runtime is checked on
    cfg = read_config(args.config, args.cfg_options)
    backbone = cfg.model.backbone
    model_name = f"{backbone.type.split('.')[-1]}-{backbone.get('arch')}"
    if not args.backbone_only:
        model_name = f'{cfg.model.type} + {model_name}'
    module, outputs = deployed_module(cfg, args.backbone_only,
                                      args.checkpoint)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='mmrep_infer_')
    rows = []
    for batch in args.batch:
        for size in args.size:
            x = torch.randn(batch, 3, size, size,
                            generator=torch.Generator().manual_seed(0))
            onnx_path = osp.join(work_dir, f'model_{batch}x{size}.onnx')
            runtimes = build_runtimes(module, names, onnx_path, x, outputs,
                                      torch.get_num_threads())
            reference = runtimes[names.index('eager')].run(x)
            for row in compare(runtimes, x, reference, args.rounds,
                               args.warmup, args.repeats):
                rows.append(dict(row, model=model_name,
                                 input=f'{batch}x3x{size}x{size}'))
                print(rows[-1], flush=True)
    env = environment(torch.device('cpu'))
    env['native_bf16'] = native_bf16()
    results = dict(environment=env, rows=rows, command=' '.join(
        ['tools/benchmark_inference.py'] +
        (argv if argv is not None else [])))
    print(write_results(results, args.json, args.md, 'CPU inference',
                        COLUMNS))
    return results


if __name__ == '__main__':
    main()
