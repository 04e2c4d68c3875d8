"""Timing helpers shared by tools/benchmark_dwconv.py and tools/benchmark.py:
warm-up, then the median of repeats, timed with CUDA events on GPUs and
``perf_counter`` on the CPU."""
import json
import os
import os.path as osp
import statistics
import time

import torch

from mmrep.ops.heap import preloaded_malloc


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_ms(fn, device, warmup=3, repeats=10):
    """Median wall time of ``fn()`` in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if device.type == 'cuda':
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
        else:
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def rel_err(out, ref):
    """Relative error (Frobenius) of ``out`` against ``ref``, in float64."""
    return ((out.double() - ref.double()).norm() / ref.double().norm()).item()


def environment(device):
    """What the numbers were measured on."""
    env = dict(torch=torch.__version__, device=str(device))
    if device.type == 'cuda':
        env.update(card=torch.cuda.get_device_name(device),
                   cuda=torch.version.cuda,
                   cudnn=torch.backends.cudnn.version())
        try:
            import triton
            env['triton'] = triton.__version__
        except ImportError:
            pass
    else:
        env.update(cpu_threads=torch.get_num_threads(),
                   malloc=preloaded_malloc() or 'libc')
    return env


def markdown_table(rows, columns):
    head = '| ' + ' | '.join(columns) + ' |'
    rule = '|' + '---|' * len(columns)
    body = ['| ' + ' | '.join(_fmt(r.get(c)) for c in columns) + ' |'
            for r in rows]
    return '\n'.join([head, rule] + body)


def _fmt(value):
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:.3g}' if abs(value) < 100 else f'{value:.0f}'
    if isinstance(value, (list, tuple)):
        return ', '.join(map(_fmt, value))
    return str(value)


def write_results(results, json_path, md_path, title, columns):
    for path in (json_path, md_path):
        if path and osp.dirname(path):
            os.makedirs(osp.dirname(path), exist_ok=True)
    if json_path:
        with open(json_path, 'w') as f:
            json.dump(results, f, indent=2)
    text = (f'## {title}\n\n' + ', '.join(
        f'{k}: {v}' for k, v in results['environment'].items()) + '\n\n' +
        markdown_table(results['rows'], columns) + '\n')
    if md_path:
        with open(md_path, 'w') as f:
            f.write(text)
    return text
