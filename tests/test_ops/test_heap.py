"""Large maps stay in glibc's heap for CPU inference: both thresholds
raised once, at the first CPU inference (never in training), left alone
where the process chose, and freed maps are not faulted in again."""
import os
import subprocess
import sys

import pytest
import torch

from mmrep.models import RepLKNet
from mmrep.models.backbones import base
from mmrep.ops import heap

from ..helpers import TINY_ARCH

CHOICES = dict(MALLOC_MMAP_THRESHOLD_='1000000',
               MALLOC_TRIM_THRESHOLD_='1000000',
               GLIBC_TUNABLES='glibc.malloc.trim_threshold=1000000',
               LD_PRELOAD='/usr/lib/libjemalloc.so.2')
glibc_only = pytest.mark.skipif(not heap._glibc(), reason='glibc only')


@pytest.fixture
def mallopt(monkeypatch):
    """The calls mmrep makes, recorded (not made), in a process that has
    not asked yet and chose nothing itself."""
    calls = []
    monkeypatch.setattr(heap, '_asked', [])
    monkeypatch.setattr(heap, '_mallopt',
                        lambda param, value: calls.append((param, value)) or 1)
    for name in CHOICES:
        monkeypatch.delenv(name, raising=False)
    return calls


@glibc_only
def test_both_thresholds_raised_once(mallopt):
    assert heap.keep_large_maps()
    assert mallopt == [(heap.M_MMAP_THRESHOLD, heap.KEEP_BYTES),
                       (heap.M_TRIM_THRESHOLD, heap.KEEP_BYTES)]
    assert not heap.keep_large_maps()
    assert len(mallopt) == 2


@glibc_only
@pytest.mark.parametrize('name', sorted(CHOICES))
def test_left_alone_where_the_process_chose(mallopt, monkeypatch, name):
    monkeypatch.setenv(name, CHOICES[name])
    assert not heap.keep_large_maps()
    assert mallopt == []


@glibc_only
def test_asked_at_the_first_cpu_inference_never_in_training(mallopt,
                                                            monkeypatch):
    monkeypatch.setattr(base, '_CPU_INFERENCE_NOTED', [])
    model = RepLKNet(arch=TINY_ARCH)
    x = torch.randn(1, 3, 64, 64)
    model.train()
    model(x)
    model.eval()
    model(x)  # gradients recorded: not inference
    assert mallopt == []
    with torch.no_grad():
        model(x)
        model(x)
    assert len(mallopt) == 2


FAULTS = '''
import resource, sys, torch
from mmrep.ops.heap import keep_large_maps
if sys.argv[1] == 'keep':
    assert keep_large_maps()
def faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(16 << 20)  # 64 MiB, freed at once
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
for _ in range(5):  # the heap grows to hold it
    faults()
print(*[faults() for _ in range(4)])
'''


def minor_faults_of_later_maps(mode):
    env = {k: v for k, v in os.environ.items() if k not in CHOICES}
    env.pop('THP_MEM_ALLOC_ENABLE', None)  # 4 KiB pages: one fault each
    proc = subprocess.run([sys.executable, '-c', FAULTS, mode], env=env,
                          text=True, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [int(n) for n in proc.stdout.split()[-4:]]


@glibc_only
def test_a_freed_map_is_not_faulted_in_again():
    pages = (64 << 20) // os.sysconf('SC_PAGE_SIZE')
    assert min(minor_faults_of_later_maps('default')) > pages // 2
    assert max(minor_faults_of_later_maps('keep')) < pages // 16
