"""mmrep's AVX-512 large-kernel depthwise convolution for CPU serving
(``csrc/dwconv_avx512.cpp``): ``torch.ops.mmrep.dwconv2d_avx512``, which
the graphs of :func:`mmrep.apis.compile_for_cpu` call in place of oneDNN's
depthwise primitive.

oneDNN's depthwise kernels read the zero padding of a map smaller than the
kernel (RepLKNet-31B at 224: 27x27 kernels on 14x14 maps) and pick a slow
kernel for 13x13; this one skips the padding, lays each input row out once
for all the output rows it reaches and sums in float32, two taps per
``vdpbf16ps`` for bfloat16 maps on CPUs with AVX512-BF16
(``tools/benchmark_serving_dwconv.py`` times both; docs/benchmarks.md has
the table).

It is built once per machine with PyTorch's C++ extension tools (the C++
compiler inductor needs anyway, and ninja), into PyTorch's extension
cache, and checked against PyTorch's convolution at load; where it cannot
run (no AVX-512, a torch without ``torch.library.register_fake``, a failed
build or check), serving stays on oneDNN and the reason is logged once.
"""
import contextlib
import os.path as osp
import time

import torch
import torch.nn.functional as F
from mmengine.logging import print_log

from . import compat

LANES = 16  # float32 lanes of an AVX-512 register: the channel block
# Smaller kernels stay on oneDNN, level or ahead there (3x3 at
# 1x96x128x128, bfloat16: 142 us against 261)
MIN_KERNEL = 5
_SOURCE = osp.join(osp.dirname(__file__), 'csrc', 'dwconv_avx512.cpp')
_FLAGS = ['-O3', '-fopenmp', '-mavx512f', '-mavx512bw', '-mavx512dq',
          '-mavx512vl']
_state = {}  # 'loaded': bool, once load() has run
_serving = False  # see serving()


def cpu_supported():
    """Whether this CPU and torch can run the kernel: AVX-512 (as PyTorch's
    own kernels see it) and ``torch.library.register_fake`` (torch >=
    2.4)."""
    return (compat.HAS_CUSTOM_OP
            and torch.backends.cpu.get_cpu_capability().startswith('AVX512'))


def load():
    """Build (first time on this machine), load and check the kernel;
    whether it can serve. Says once what happened."""
    if 'loaded' not in _state:
        _state['loaded'] = _load()
    return _state['loaded']


def _say(message):
    print_log(f'compile_for_cpu: {message} (said once)', logger='current')


def _load():
    if not compat.HAS_CUSTOM_OP:  # said by compat.note_fallbacks
        return False
    if not cpu_supported():
        _say('this CPU has no AVX-512: the large-kernel convolutions run on '
             'oneDNN')
        return False
    from torch.utils import cpp_extension
    start = time.perf_counter()
    try:
        cpp_extension.load('mmrep_dwconv_avx512', [_SOURCE],
                           extra_cflags=_FLAGS, extra_ldflags=['-fopenmp'],
                           is_python_module=False)
    except (OSError, RuntimeError, ImportError) as error:
        _say(f'building the AVX-512 large-kernel convolution failed '
             f'({_first_error(error)}); the large-kernel convolutions run '
             f'on oneDNN')
        return False
    _register_fake()
    _state['pairs'] = torch.ops.mmrep.dwconv2d_avx512_bf16_pairs()
    mismatch = self_check()
    if mismatch:
        _say(f'the AVX-512 large-kernel convolution disagrees with PyTorch\'s '
             f'({mismatch}); the large-kernel convolutions run on oneDNN')
        return False
    _say(f'the large-kernel convolutions run on mmrep\'s AVX-512 kernel '
         f'(loaded and checked against PyTorch\'s convolution in '
         f'{time.perf_counter() - start:.1f} s)')
    return True


def _first_error(error):
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return next((line for line in lines if 'error' in line.lower()),
                lines[-1])


def _register_fake():
    if 'fake' in _state:
        return
    _state['fake'] = True

    @torch.library.register_fake('mmrep::dwconv2d_avx512')
    def _(x, weight, bias, relu):
        return torch.empty_like(x, memory_format=torch.channels_last)


# (N, C, H, W, K): maps smaller than, equal to and larger than the kernel,
# widths that are and are not multiples of the register block
CHECK_CASES = ((2, 32, 5, 9, 13), (1, 16, 14, 14, 27), (1, 48, 13, 17, 3),
               (2, 16, 23, 8, 7))


def layouts():
    """(dtype, pairs) of every path the kernel takes on this CPU."""
    found = [(torch.float32, False), (torch.bfloat16, False)]
    return found + [(torch.bfloat16, True)] if _state.get('pairs') else found


def self_check(cases=CHECK_CASES):
    """What differs between the kernel and PyTorch's convolution in
    float64 on ``cases`` (every path of :func:`layouts`, ReLU on and off),
    or '' where nothing does. A bfloat16 map computes with the weight
    rounded to bfloat16, as under autocast."""
    gen = torch.Generator().manual_seed(0)
    for n, c, h, w, k in cases:
        x = torch.randn(n, c, h, w, generator=gen)
        weight = torch.randn(c, 1, k, k, generator=gen) / k
        bias = torch.randn(c, generator=gen)
        for dtype, pairs in layouts():
            tol = 1e-5 if dtype == torch.float32 else 4e-3
            xd = x.to(dtype).contiguous(memory_format=torch.channels_last)
            wd = weight.to(dtype)
            for relu in (False, True):
                out = dwconv(xd, wd, bias, relu, pairs)
                ref = F.conv2d(xd.double(), wd.double(), bias.double(),
                               padding=k // 2, groups=c)
                ref = ref.relu() if relu else ref
                err = ((out.double() - ref).norm() / ref.norm()).item()
                if not (out.dtype == dtype and err <= tol):
                    return (f'{dtype} (pairs={pairs}) {tuple(x.shape)} '
                            f'K={k} relu={relu}: relative error {err:.2e} > '
                            f'{tol}, or dtype {out.dtype}')
    return ''


def pack_weight(weight, dtype, pairs=None):
    """A (C, 1, K, K) depthwise weight as the kernel reads it, in
    ``dtype``: (C / 16, K, K, 16); with ``pairs`` (default: for bfloat16
    where the CPU has AVX512-BF16) the columns in pairs, a zero column
    after the last: (C / 16, K, (K + 1) / 2, 16, 2), which the kernel sums
    with vdpbf16ps."""
    if pairs is None:
        pairs = dtype == torch.bfloat16 and _state.get('pairs', False)
    c, _, k, _ = weight.shape
    w = weight.to(dtype).reshape(c // LANES, LANES, k, k)
    if not pairs:
        return w.permute(0, 2, 3, 1).contiguous()
    w = F.pad(w, (0, 1)).reshape(c // LANES, LANES, k, (k + 1) // 2, 2)
    return w.permute(0, 2, 3, 1, 4).contiguous()


def dwconv(x, weight, bias=None, relu=False, pairs=None):
    """``relu?(conv(x) + bias)`` for a channels_last float32 or bfloat16
    ``x`` with C a multiple of 16, the weight laid out by
    :func:`pack_weight` (``pairs`` as there); the result in ``x``'s dtype,
    channels_last."""
    if bias is None:
        bias = weight.new_zeros(weight.shape[0])
    return torch.ops.mmrep.dwconv2d_avx512(
        x, pack_weight(weight, x.dtype, pairs), bias.float(), relu)


def serves(x, kernel_size):
    """Whether the graph being traced for :func:`serving` calls the kernel
    for the map ``x``: the kernel loaded and checked, ``x`` channels_last
    with C a multiple of 16, the kernel at least :data:`MIN_KERNEL`. The
    weight's packing is computed once, by inductor's freezing."""
    return (_serving and x.shape[1] % LANES == 0
            and kernel_size >= MIN_KERNEL
            and x.dtype in (torch.float32, torch.bfloat16)
            and x.is_contiguous(memory_format=torch.channels_last))


@contextlib.contextmanager
def serving(enabled):
    """Within it, the graphs traced for CPU inference call the kernel
    where ``enabled`` and :func:`load` succeeded; Dynamo reads the flag as
    a constant and guards on it."""
    global _serving
    previous, _serving = _serving, enabled and load()
    try:
        yield
    finally:
        _serving = previous
