"""Large maps kept in glibc's heap for CPU inference.

glibc's ``malloc`` serves a block above its mmap threshold (adapted at run
time, at most 32 MiB) with a fresh ``mmap`` and unmaps it when it is freed,
and it trims the heap's free top at 128 KiB: so each forward of a large
input faults in, and the kernel zeroes, its large maps anew (a 4x512
RepLKNet-31B forward allocates maps of 33.5 and 134 MiB dozens of times).
Inference runtimes keep their buffers in an arena; here glibc's mmap and
trim thresholds are raised to 1 GiB at the first CPU inference, once per
process, and said: freed maps then stay in the heap for the next forward
(RepLKNet-31B float32, 4x512, eager: 3.21 s a forward against 3.57,
docs/deployment.md). The process keeps a heap somewhat larger than its
largest forward (+7% resident for that one at 1x512): the freed maps'
layout takes a few forwards to settle.

Left alone where the process chose already (``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_``, ``GLIBC_TUNABLES`` with ``glibc.malloc``, an
allocator in ``LD_PRELOAD`` such as jemalloc or tcmalloc) and outside
glibc.
"""
import ctypes
import os
import re

from mmengine.logging import print_log

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
KEEP_BYTES = 1 << 30
_asked = []


def _chosen_by_the_process():
    """What the process set about its allocator already, or None."""
    for name in ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_'):
        if name in os.environ:
            return name
    if 'glibc.malloc' in os.environ.get('GLIBC_TUNABLES', ''):
        return 'GLIBC_TUNABLES'
    if preloaded_malloc():
        return 'LD_PRELOAD'
    return None


def preloaded_malloc():
    """The allocator ``LD_PRELOAD`` puts before glibc's (e.g.
    ``libtcmalloc_minimal.so.4``), or None."""
    for path in re.split('[: ]', os.environ.get('LD_PRELOAD', '')):
        if 'malloc' in os.path.basename(path):
            return os.path.basename(path)
    return None


def on_glibc():
    """Whether the process runs glibc."""
    try:
        return os.confstr('CS_GNU_LIBC_VERSION') is not None
    except (AttributeError, ValueError, OSError):  # not a POSIX glibc
        return False


def _mallopt(param, value):
    return ctypes.CDLL('libc.so.6').mallopt(param, ctypes.c_int(value))


def keep_large_maps():
    """Raise glibc's mmap and trim thresholds to :data:`KEEP_BYTES`, the
    first time only (then logged); whether it did."""
    if _asked:
        return False
    _asked.append(True)
    if not on_glibc():
        return False
    chosen = _chosen_by_the_process()
    if chosen is not None:
        print_log(f'CPU inference: glibc\'s heap left as {chosen} sets it',
                  logger='current')
        return False
    if not (_mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)
            and _mallopt(M_TRIM_THRESHOLD, KEEP_BYTES)):
        return False
    print_log('CPU inference: maps up to 1 GiB stay in glibc\'s heap once '
              'freed (mallopt M_MMAP_THRESHOLD and M_TRIM_THRESHOLD), not '
              'unmapped and faulted in again at every forward; the process '
              'keeps a heap somewhat larger than its largest forward (said '
              'once; set MALLOC_MMAP_THRESHOLD_ to choose otherwise)',
              logger='current')
    return True
