"""CPU inference side by side (tools/benchmark_inference.py): mmrep's
eager deploy form as tools/test.py runs it, the same under bfloat16
autocast (where the CPU computes bfloat16 natively), the form compiled for
serving (:func:`mmrep.apis.deploy.compile_for_cpu`, float32 and bfloat16),
ONNX Runtime and OpenVINO (when installed) on one exported graph of the same
weights, in one process, on the same input. Every runtime's outputs are
checked against mmrep's float32 eager outputs before it is timed, and the
timing rounds interleave the runtimes, so that a slow spell of the machine
falls on all of them."""
import statistics

import numpy as np
import torch

from mmrep.ops.heap import preloaded_malloc

from .timing import time_ms

RUNTIMES = ('eager', 'eager-bf16', 'compiled', 'compiled-bf16',
            'onnxruntime', 'openvino', 'openvino-f32')
# Largest relative error (Frobenius, per output) against float32 eager.
TOLERANCE = {'f32': 1e-4, 'bf16': 5e-2}


def native_bf16():
    """Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX),
    read from /proc/cpuinfo; False where it cannot be read."""
    try:
        with open('/proc/cpuinfo') as f:
            flags = f.read()
    except OSError:
        return False
    return 'avx512_bf16' in flags or 'amx_bf16' in flags


def relative_errors(outs, refs):
    return [float(np.linalg.norm(np.asarray(o, np.float64) - r) /
                  max(np.linalg.norm(r), 1e-30)) for o, r in zip(outs, refs)]


def _as_list(out):
    outs = out if isinstance(out, (tuple, list)) else [out]
    return [o.float().numpy() if torch.is_tensor(o) else o for o in outs]


class Runtime:
    """A way to run the model: ``run(x)`` -> list of arrays; ``precision``
    is what it computes in ('f32' or 'bf16')."""

    def __init__(self, name, precision, run):
        self.name, self.precision, self.run = name, precision, run


def eager(module, bf16=False):
    def run(x):
        with torch.no_grad(), torch.autocast('cpu', torch.bfloat16,
                                             enabled=bf16):
            return _as_list(module(x))
    return Runtime('eager-bf16' if bf16 else 'eager',
                   'bf16' if bf16 else 'f32', run)


def compiled(module, bf16=False):
    """``module`` through :func:`~mmrep.apis.deploy.compile_for_cpu` (its
    first run compiles: the agreement check, before any timing)."""
    from mmrep.apis.deploy import compile_for_cpu
    torch._dynamo.reset()  # each input size is a new graph: a fresh budget
    runtime = eager(compile_for_cpu(module), bf16)
    runtime.name = 'compiled-bf16' if bf16 else 'compiled'
    return runtime


def onnxruntime(onnx_path, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(onnx_path, options,
                                   providers=['CPUExecutionProvider'])
    name = session.get_inputs()[0].name
    return Runtime('onnxruntime', 'f32',
                   lambda x: session.run(None, {name: x.numpy()}))


def openvino(onnx_path, threads, f32=False):
    """OpenVINO's CPU plugin with its default precision (bf16 on CPUs with
    native bf16) or, with ``f32``, float32."""
    malloc = preloaded_malloc()
    if malloc:  # seen with tcmalloc and jemalloc: glibc's free() aborts
        raise RuntimeError(
            f'OpenVINO aborts the process where LD_PRELOAD puts {malloc} '
            f'before libc\'s malloc; run it in a process without (leave '
            f'openvino out of --runtimes here)')
    import openvino as ov
    core = ov.Core()
    config = {'INFERENCE_NUM_THREADS': threads}
    if f32:
        config['INFERENCE_PRECISION_HINT'] = 'f32'
    compiled = core.compile_model(onnx_path, 'CPU', config)
    request = compiled.create_infer_request()
    precision = str(compiled.get_property('INFERENCE_PRECISION_HINT'))

    def run(x):
        result = request.infer({0: x.numpy()})
        return [result[o] for o in compiled.outputs]
    return Runtime('openvino-f32' if f32 else 'openvino',
                   'bf16' if 'bf16' in precision.lower() or
                   'bfloat16' in precision.lower() else 'f32', run)


def openvino_usable():
    """Whether OpenVINO can run here: installed, and no allocator preloaded
    (:func:`openvino`)."""
    if preloaded_malloc():
        return False
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def build_runtimes(module, names, onnx_path, image, output_names,
                   threads):
    """The runtimes ``names`` for ``module``; ONNX Runtime and OpenVINO
    run the graph exported (from ``image``) to ``onnx_path``, written
    anew."""
    from mmrep.apis.onnx import export_onnx
    if any(n.startswith(('onnx', 'openvino')) for n in names):
        export_onnx(module, image, onnx_path, output_names)
    made = []
    for name in names:
        if name in ('eager', 'eager-bf16'):
            made.append(eager(module, bf16=name == 'eager-bf16'))
        elif name in ('compiled', 'compiled-bf16'):
            made.append(compiled(module, bf16=name == 'compiled-bf16'))
        elif name == 'onnxruntime':
            made.append(onnxruntime(onnx_path, threads))
        elif name.startswith('openvino'):
            made.append(openvino(onnx_path, threads,
                                 f32=name == 'openvino-f32'))
        else:
            raise ValueError(f'runtime {name!r} is unknown; choose from '
                             f'{RUNTIMES}')
    return made


def check_agreement(runtimes, x, reference):
    """Each runtime's largest relative error against ``reference``;
    raises where one exceeds its precision's :data:`TOLERANCE`."""
    errors = {}
    for rt in runtimes:
        errors[rt.name] = max(relative_errors(rt.run(x), reference))
        if errors[rt.name] > TOLERANCE[rt.precision]:
            raise RuntimeError(
                f'{rt.name} ({rt.precision}) disagrees with float32 eager: '
                f'relative error {errors[rt.name]:.2e} > '
                f'{TOLERANCE[rt.precision]:.0e}; its times would mean nothing')
    return errors


def compare(runtimes, x, reference, rounds=3, warmup=2, repeats=5,
            timer=time_ms):
    """Rows of ms per runtime: the median over ``rounds`` interleaved
    rounds of each round's median of ``repeats`` (after ``warmup``), the
    relative error, and the ratios to ONNX Runtime and to eager (> 1:
    faster)."""
    errors = check_agreement(runtimes, x, reference)
    times = {rt.name: [] for rt in runtimes}
    cpu = torch.device('cpu')
    for _ in range(rounds):
        for rt in runtimes:
            times[rt.name].append(timer(lambda: rt.run(x), cpu, warmup,
                                        repeats))
    ms = {name: statistics.median(t) for name, t in times.items()}
    rows = []
    for rt in runtimes:
        row = dict(runtime=rt.name, precision=rt.precision,
                   ms=ms[rt.name], rounds_ms=times[rt.name],
                   rel_err=errors[rt.name])
        for base in ('onnxruntime', 'eager'):
            if base in ms:
                row[f'x_{base}'] = ms[base] / ms[rt.name]
        rows.append(row)
    return rows
