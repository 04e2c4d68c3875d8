"""Variable-shape workloads, first calls included: 'auto' against each fixed
large-kernel implementation when nearly every image brings a new size.

  # (a) whole-image testing: ADE20K-like images (short side 512, long side
  #     512..1024) through UperNet-31B's test path (pipeline + test_step)
  python tools/benchmark_shapes.py ade20k --count 50
  # (b) Mask R-CNN-31B training steps at the sizes that mmdet's train
  #     pipelines produce: by default the ms-crop one and FCOS's
  #     ms-640-800 one in turn (--sizes-from: any configs' pipelines)
  python tools/benchmark_shapes.py coco --count 30 --batch 1

Each implementation runs in a process of its own, as a user's job would
(nothing measured or cached before), on the same weights and images. The
row 'auto, decided' runs 'auto' with the decisions of the 'auto' row given
in advance: the same computation without measuring, so that the two rows'
difference is what measuring costs in time and peak memory. ``vs_best``:
total seconds over the fastest fixed implementation's. With ``--repeat k``
the implementations run in k rounds, one process each per round, in turn
(so that a slow spell of the machine falls on all of them alike); a row
is the run with the median total, ``runs_s`` lists every round's total.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from mmengine.config import Config

from mmrep.benchmark import environment, write_results
from mmrep.benchmark import shapes as workloads
from mmrep.utils import build_model, drop_pretrained

CONFIGS = dict(
    ade20k='configs/upernet/'
    'upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py',
    coco='configs/mask_rcnn/mask-rcnn_replknet31b_fpn_8xb2-ms-crop-3x_coco.py')
SIZES_FROM = [
    CONFIGS['coco'],
    'configs/fcos/fcos_replknet31b_fpn_8xb2-ms-640-800-2x_coco.py']
COLUMNS = ['impl', 'items', 'distinct_shapes', 'total_s', 'runs_s',
           'first_s', 'vs_best', 'measured', 'measuring_s', 'peak_mem_mb']
FIXED = ('rows', 'torch', 'triton')


def build(cfg, impl, device):
    cfg = copy_without_init(cfg)
    cfg.model.backbone.large_kernel_impl = impl
    torch.manual_seed(0)  # the same weights in every process
    return build_model(cfg).to(device)


def copy_without_init(cfg):
    cfg = Config(cfg.to_dict())
    drop_pretrained(cfg.model)
    return cfg


def workload(task, cfg, sizes_from, count, batch):
    """(batches of pipeline outputs, whether they are trained)."""
    if task == 'ade20k':
        samples = workloads.pipeline_samples(
            cfg.test_dataloader.dataset.pipeline,
            workloads.ade20k_sizes(count), detection=False)
        return workloads.batches(samples, 1), False
    # image i comes from the pipeline of sizes_from[i % len(sizes_from)]
    sizes = workloads.coco_like_sizes(count * batch)
    samples = [None] * len(sizes)
    for i, path in enumerate(sizes_from):
        pipeline = Config.fromfile(path).train_dataloader.dataset.pipeline
        samples[i::len(sizes_from)] = workloads.pipeline_samples(
            pipeline, sizes[i::len(sizes_from)], detection=True, seed=i)
    return workloads.batches(samples, batch), True


def run_one(args, impl, decisions):
    """One implementation over the whole workload, in this process."""
    device = torch.device(args.device)
    cfg = Config.fromfile(args.config)
    model = build(cfg, 'auto' if impl == 'auto, decided' else impl, device)
    data, training = workload(args.task, cfg, args.sizes_from, args.count,
                              args.batch or
                              cfg.train_dataloader.batch_size)
    shapes = workloads.padded_shapes(model, data, training)
    if decisions is not None:
        workloads.preset_decisions(decisions)
    if training:
        from mmengine.optim import build_optim_wrapper
        model.train()
        optim = build_optim_wrapper(model, copy_without_init(
            cfg).optim_wrapper)

        def step(batch):
            model.train_step(batch, optim)
    else:
        model.eval()

        def step(batch):
            with torch.no_grad():
                model.test_step(batch)

    seconds = workloads.run_workload(step, data, device)
    return dict(impl=impl, items=len(data), distinct_shapes=len(set(shapes)),
                shapes=[list(s) for s in shapes], total_s=sum(seconds),
                first_s=seconds[0], seconds=seconds,
                peak_mem_mb=workloads.peak_memory_mb(device),
                **workloads.auto_summary())


def in_new_process(argv, impl, decisions=None):
    """Run one implementation in a process of its own; its row."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'row.json')
        command = [sys.executable, __file__, *argv, '--one', impl,
                   '--out', out]
        if decisions is not None:
            path = os.path.join(tmp, 'decisions.json')
            with open(path, 'w') as f:
                json.dump(decisions, f)
            command += ['--decisions', path]
        subprocess.run(command, check=True)
        with open(out) as f:
            return json.load(f)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('task', choices=sorted(CONFIGS))
    parser.add_argument('--config', help='default: UperNet-31B ADE20K or '
                        'Mask R-CNN-31B ms-crop 3x')
    parser.add_argument('--sizes-from', nargs='+', default=SIZES_FROM,
                        help='coco: the configs whose train pipelines make '
                        "the images, in turn (default: Mask R-CNN's "
                        "ms-crop and FCOS's ms-640-800)")
    parser.add_argument('--count', type=int, default=None,
                        help='images (ade20k, default 50) or training '
                        'steps (coco, default 30)')
    parser.add_argument('--batch', type=int, default=None,
                        help="images per training step (default: the "
                        "config's)")
    parser.add_argument('--impls', nargs='+', default=None,
                        help="default: auto, 'auto, decided', rows, torch "
                        "(and triton on a GPU)")
    parser.add_argument('--repeat', type=int, default=1,
                        help='rounds of all implementations in turn; each '
                        'row reports its median round (default 1)')
    parser.add_argument('--device', default=None)
    parser.add_argument('--json')
    parser.add_argument('--md')
    parser.add_argument('--one', help=argparse.SUPPRESS)
    parser.add_argument('--out', help=argparse.SUPPRESS)
    parser.add_argument('--decisions', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.config = args.config or CONFIGS[args.task]
    args.count = args.count or (50 if args.task == 'ade20k' else 30)
    args.device = args.device or ('cuda' if torch.cuda.is_available()
                                  else 'cpu')
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.one:  # a child process: one implementation
        decisions = None
        if args.decisions:
            with open(args.decisions) as f:
                decisions = json.load(f)
        with open(args.out, 'w') as f:
            json.dump(run_one(args, args.one, decisions), f)
        return None
    device = torch.device(args.device)
    impls = args.impls or ['auto', 'auto, decided', 'rows', 'torch'] + (
        ['triton'] if device.type == 'cuda' else [])
    if 'auto, decided' in impls and 'auto' not in impls[
            :impls.index('auto, decided')]:
        raise ValueError("--impls: 'auto, decided' runs the decisions of "
                         "the 'auto' row; list 'auto' before it")
    if args.repeat < 1:
        raise ValueError(f'--repeat must be 1 or more, got {args.repeat}')
    rounds = []
    for _ in range(args.repeat):
        runs = []
        for impl in impls:
            decisions = (next(r['choices'] for r in runs
                              if r['impl'] == 'auto')
                         if impl == 'auto, decided' else None)
            runs.append(in_new_process(argv, impl, decisions))
            print({k: runs[-1][k] for k in COLUMNS if k in runs[-1]},
                  flush=True)
        rounds.append(runs)
    rows = [workloads.median_run(runs) for runs in zip(*rounds)]
    fixed = [r['total_s'] for r in rows if r['impl'] in FIXED]
    for row in rows:
        row['vs_best'] = row['total_s'] / min(fixed) if fixed else None
    results = dict(environment=environment(device), task=args.task,
                   config=args.config, sizes_from=args.sizes_from, rows=rows)
    print(write_results(results, args.json, args.md,
                        f'Variable shapes: {args.task}', COLUMNS))
    return results


if __name__ == '__main__':
    main()
