"""Time the large-kernel depthwise convolution (forward, and forward + grad
input + grad weight) per implementation and dtype at RepLKNet-31B's stage
shapes, 'auto' among them; check each against PyTorch's result; write JSON
and a markdown table.

  python tools/benchmark_dwconv.py --preset cpu --dtypes float32 \
      --json work_dirs/bench/dwconv.json --md work_dirs/bench/dwconv.md

Columns: ``speedup`` is PyTorch's fwd+bwd time over this row's; ``vs_best``
is this row's fwd+bwd time over the fastest implementation's at the shape
(1.0 = the fastest); ``chosen`` is what 'auto' picked (training case); the
JSON also holds the times 'auto' measured before choosing
(``auto_timed_ms``; only the cached choice when it came from the cache file)
and the candidates its check against PyTorch's convolution removed, with
the reason (``auto_rejected``).
"""
import argparse

import torch

from mmrep.benchmark import environment, rel_err, time_ms, write_results
from mmrep.ops import DISPATCHER, depthwise_conv2d, triton_available
from mmrep.ops.dispatch import case_key
from mmrep.ops.matmul_dwconv import dense_fits

_31B = ((128, 4, 31), (256, 8, 29), (512, 16, 27), (1024, 32, 13))


def stage_shapes(batch, height, width):
    """(B, C, H, W, K) of the four 31B stages for an input image."""
    return [(batch, c, -(-height // s), -(-width // s), k)
            for c, s, k in _31B]


PRESETS = {
    # What 2 CPU cores time in minutes: batch 8 / 224x224, batch 1 /
    # 512x512, batch 1 / 800x1333.
    'cpu': (stage_shapes(8, 224, 224) + stage_shapes(1, 512, 512) +
            stage_shapes(1, 800, 1333)),
    # GPUs: batch 64 / 224x224, batch 8 / 512x512, batch 2 / 800x1333.
    'gpu': (stage_shapes(64, 224, 224) + stage_shapes(8, 512, 512) +
            stage_shapes(2, 800, 1333)),
    # A few seconds on a CPU, for smoke tests.
    'tiny': [(1, 4, 8, 8, 7), (1, 4, 5, 6, 9)],
}
COLUMNS = ['shape', 'dtype', 'impl', 'chosen', 'fwd_ms', 'fwd_bwd_ms',
           'speedup', 'vs_best', 'max_rel_err']


def default_impls(device, shape):
    n, c, h, w, k = shape
    impls = ['torch'] + (['channels_last'] if device.type == 'cpu' else [])
    impls.append('rows')
    if dense_fits(c, h, w):
        impls.append('dense')
    if device.type == 'cuda' and triton_available():
        impls.append('triton')
    return impls + ['auto']


def run_case(shape, dtype, impl, device, warmup, repeats):
    n, c, h, w, k = shape
    torch.manual_seed(0)  # the same inputs for every implementation
    x = torch.randn(n, c, h, w, device=device, dtype=dtype,
                    requires_grad=True)
    weight = torch.randn(c, 1, k, k, device=device, dtype=dtype,
                         requires_grad=True)
    grad = torch.randn(n, c, h, w, device=device, dtype=dtype)

    def forward():
        with torch.no_grad():
            return depthwise_conv2d(x, weight, impl=impl)

    def forward_backward():
        y = depthwise_conv2d(x, weight, impl=impl)
        dx, dw = torch.autograd.grad(y, (x, weight), grad)
        return y, dx, dw

    # 'auto' measures on its first call of a case: keep that out of timing
    warmup = max(warmup, 1) if impl == 'auto' else warmup
    row = dict(shape=','.join(map(str, shape)),
               dtype=str(dtype).replace('torch.', ''), impl=impl,
               fwd_ms=time_ms(forward, device, warmup, repeats),
               fwd_bwd_ms=time_ms(forward_backward, device, warmup,
                                  repeats))
    if impl == 'auto':  # what it chose, and what it measured (ms)
        key = case_key(x, weight, True)
        row['chosen'] = DISPATCHER.choices[key]
        row['auto_timed_ms'] = {name: t * 1e3 for name, t in
                                DISPATCHER.timings.get(key, {}).items()}
        row['auto_rejected'] = DISPATCHER.rejected.get(key, {})
    return row, forward_backward()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--preset', choices=sorted(PRESETS), default=None,
                        help="default: 'gpu' on a GPU, else 'cpu'")
    parser.add_argument('--shapes', nargs='+', metavar='B,C,H,W,K',
                        help='time these shapes instead of a preset')
    parser.add_argument('--dtypes', nargs='+', default=['float32'])
    parser.add_argument('--impls', nargs='+', default=None,
                        help='default: torch, channels_last (CPU), rows, '
                        'dense (where its matrix fits), triton (CUDA) and '
                        'auto; the first is the baseline')
    parser.add_argument('--device', default=None)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--json')
    parser.add_argument('--md')
    args = parser.parse_args(argv)
    device = torch.device(args.device or
                          ('cuda' if torch.cuda.is_available() else 'cpu'))
    preset = args.preset or ('gpu' if device.type == 'cuda' else 'cpu')
    rows = []
    shapes = ([tuple(map(int, s.split(','))) for s in args.shapes]
              if args.shapes else PRESETS[preset])
    for shape in shapes:
        for dtype in (getattr(torch, d) for d in args.dtypes):
            group = []
            for impl in args.impls or default_impls(device, shape):
                row, result = run_case(shape, dtype, impl, device,
                                       args.warmup, args.repeats)
                if not group:
                    baseline, outputs = row, result
                row['speedup'] = baseline['fwd_bwd_ms'] / row['fwd_bwd_ms']
                row['max_rel_err'] = max(
                    rel_err(a, b) for a, b in zip(result, outputs))
                group.append(row)
                print(row, flush=True)
            best = min(r['fwd_bwd_ms'] for r in group if r['impl'] != 'auto')
            for row in group:
                row['vs_best'] = row['fwd_bwd_ms'] / best
            rows += group
    results = dict(environment=environment(device), rows=rows,
                   baseline=rows[0]['impl'], preset=preset)
    print(write_results(results, args.json, args.md,
                        'Large-kernel depthwise convolution', COLUMNS))
    return results


if __name__ == '__main__':
    main()
