"""Time the large-kernel depthwise convolution (forward, and forward +
grad input + grad weight) per implementation and dtype at RepLKNet-31B's
stage shapes; check each implementation against PyTorch's; write JSON and
a markdown table.

  python tools/benchmark_dwconv.py --preset paper --dtypes float32 bfloat16 \
      --json work_dirs/bench/dwconv.json --md work_dirs/bench/dwconv.md
"""
import argparse

import torch

from mmrep.benchmark import environment, time_ms, write_results
from mmrep.ops import depthwise_conv2d, triton_available

_31B = ((128, 4, 31), (256, 8, 29), (512, 16, 27), (1024, 32, 13))


def stage_shapes(batch, height, width):
    """(B, C, H, W, K) of the four 31B stages for an input image."""
    return [(batch, c, -(-height // s), -(-width // s), k)
            for c, s, k in _31B]


PRESETS = {
    # 31B at batch 64 / 224x224, batch 8 / 512x512, batch 2 on 800x1333.
    'paper': (stage_shapes(64, 224, 224) + stage_shapes(8, 512, 512) +
              stage_shapes(2, 800, 1333)),
    # A few seconds on a CPU, for smoke tests.
    'tiny': [(1, 4, 8, 8, 7), (1, 4, 5, 6, 9)],
}
COLUMNS = ['shape', 'dtype', 'impl', 'fwd_ms', 'fwd_bwd_ms',
           'speedup_fwd_bwd', 'max_rel_err']


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

    row = dict(shape=','.join(map(str, shape)),
               dtype=str(dtype).replace('torch.', ''), impl=impl,
               fwd_ms=time_ms(forward, device, warmup, repeats),
               fwd_bwd_ms=time_ms(forward_backward, device, warmup,
                                  repeats))
    return row, forward_backward()


def rel_err(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--preset', choices=sorted(PRESETS), default='paper')
    parser.add_argument('--dtypes', nargs='+', default=['float32',
                                                        'bfloat16'])
    parser.add_argument('--impls', nargs='+', default=None,
                        help='default: torch, plus triton when usable')
    parser.add_argument('--device', default=None)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--json')
    parser.add_argument('--md')
    args = parser.parse_args(argv)
    device = torch.device(args.device or
                          ('cuda' if torch.cuda.is_available() else 'cpu'))
    impls = args.impls or ['torch'] + (
        ['triton'] if triton_available() and device.type == 'cuda' else [])
    rows = []
    for shape in PRESETS[args.preset]:
        for dtype in (getattr(torch, d) for d in args.dtypes):
            baseline = outputs = None
            for impl in impls:
                row, result = run_case(shape, dtype, impl, device,
                                       args.warmup, args.repeats)
                if baseline is None:
                    baseline, outputs = row, result
                row['speedup_fwd_bwd'] = (baseline['fwd_bwd_ms'] /
                                          row['fwd_bwd_ms'])
                row['max_rel_err'] = max(
                    rel_err(a, b) for a, b in zip(result, outputs))
                rows.append(row)
                print(row, flush=True)
    results = dict(environment=environment(device), rows=rows,
                   baseline=impls[0])
    print(write_results(results, args.json, args.md,
                        'Large-kernel depthwise convolution', COLUMNS))
    return results


if __name__ == '__main__':
    main()
