"""Time the large-kernel depthwise convolution as compile_for_cpu's graphs
run it: oneDNN's primitive (weight prepacked, bias and ReLU fused: what
inductor's frozen graph calls) against mmrep's AVX-512 kernel
(mmrep.ops.native), at the inference stage shapes of RepLKNet-31B and
UniRepLKNet-S. Each call takes the next of ``--weights`` weights, as a
model's layers do (a weight hot in the cache would flatter either). Both
are checked against PyTorch's convolution in float64 first; writes JSON
and a markdown table with the ratio.

  python tools/benchmark_serving_dwconv.py --dtypes bfloat16 float32 \\
      --json work_dirs/bench/serving_dwconv.json \\
      --md work_dirs/bench/serving_dwconv.md
"""
import argparse
import itertools

import torch
import torch.nn.functional as F

from mmrep.benchmark import environment, rel_err, time_ms, write_results
from mmrep.ops import native
from mmrep.ops.onednn import PackedConv

# (C, stride, K) per stage with a large kernel; UniRepLKNet-S's 3x3 layers
# stay on oneDNN (native.MIN_KERNEL)
MODELS = {'RepLKNet-31B': ((128, 4, 31), (256, 8, 29), (512, 16, 27),
                           (1024, 32, 13)),
          'UniRepLKNet-S': ((192, 8, 13), (384, 16, 13), (768, 32, 13))}
COLUMNS = ['model', 'shape', 'dtype', 'onednn_us', 'mmrep_us', 'speedup',
           'rel_err_onednn', 'rel_err_mmrep']


def shapes(batches, sizes):
    """(model, (N, C, H, W, K)) of every stage, batch and square size."""
    return [(model, (n, c, -(-size // s), -(-size // s), k))
            for model, stages in MODELS.items() for n in batches
            for size in sizes for c, s, k in stages]


def run_case(shape, dtype, count, repeats):
    n, c, h, w, k = shape
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, c, h, w, generator=gen).to(dtype).contiguous(
        memory_format=torch.channels_last)
    weights = [(torch.randn(c, 1, k, k, generator=gen) / k).to(dtype)
               for _ in range(count)]
    bias = torch.randn(c, generator=gen)
    onednn = [PackedConv(wt, bias.to(dtype), (1, 1), (k // 2, ) * 2, (1, 1),
                         c, 'relu', x.shape, keep_weight=False)
              for wt in weights]
    packed = [native.pack_weight(wt, dtype) for wt in weights]
    ref = F.conv2d(x.double(), weights[0].double(), bias.double(),
                   padding=k // 2, groups=c).relu()
    errors = [rel_err(onednn[0](x), ref),
              rel_err(native.dwconv(x, weights[0], bias, relu=True), ref)]
    turn = itertools.count()

    def each(fn):  # the next weight at each call
        return lambda: fn(next(turn) % count)

    times = [time_ms(each(lambda i: onednn[i](x)), x.device, count,
                     repeats * count),
             time_ms(each(lambda i: torch.ops.mmrep.dwconv2d_avx512(
                 x, packed[i], bias, True)), x.device, count,
                 repeats * count)]
    return times, errors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch', type=int, nargs='+', default=[1, 4])
    parser.add_argument('--size', type=int, nargs='+', default=[224, 512])
    parser.add_argument('--dtypes', nargs='+', default=['bfloat16'],
                        choices=['bfloat16', 'float32'])
    parser.add_argument('--weights', type=int, default=18,
                        help='weights taken in turn (31B has 18 at 14x14)')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--json')
    parser.add_argument('--md')
    args = parser.parse_args(argv)
    if args.weights < 1 or args.repeats < 1:
        parser.error('--weights and --repeats must be at least 1')
    if not native.load():
        raise SystemExit("mmrep's AVX-512 kernel cannot run here (the log "
                         'says why): nothing to compare')
    rows = []
    for model, shape in shapes(args.batch, args.size):
        for name in args.dtypes:
            (onednn_ms, mmrep_ms), (err_o, err_m) = run_case(
                shape, getattr(torch, name), args.weights, args.repeats)
            rows.append(dict(
                model=model, shape='x'.join(map(str, shape[:4])) +
                f' K={shape[4]}', dtype=name, onednn_us=onednn_ms * 1e3,
                mmrep_us=mmrep_ms * 1e3, speedup=onednn_ms / mmrep_ms,
                rel_err_onednn=err_o, rel_err_mmrep=err_m))
            print(rows[-1], flush=True)
    results = dict(environment=environment(torch.device('cpu')), rows=rows)
    print(write_results(results, args.json, args.md,
                        "Serving: oneDNN's depthwise primitive against "
                        "mmrep's AVX-512 kernel", COLUMNS))


if __name__ == '__main__':
    main()
