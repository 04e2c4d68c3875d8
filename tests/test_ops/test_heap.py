"""Large maps stay in glibc's heap for CPU inference: both thresholds
raised once, at the first CPU inference (never in training), left alone
where the process chose; freed maps are not faulted in again, and the heap
stops growing."""
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
glibc_only = pytest.mark.skipif(not heap.on_glibc(), reason='glibc only')


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


FORWARDS = '''
import resource, sys, torch
from mmrep.models import RepLKNet
from mmrep.ops import heap
if sys.argv[1] == 'keep':
    assert heap.keep_large_maps()
else:  # asked already: the first inference leaves glibc as it is
    heap._asked.append(True)
model = RepLKNet(arch='31B').eval()
x = torch.randn(1, 3, 512, 512)  # its stem and first FFN maps: 32 MiB
def forward():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    with torch.no_grad():
        model(x)
    rss = int(open('/proc/self/statm').read().split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, rss
for _ in range(4):  # the heap grows to hold a forward
    forward()
print(*[n for _ in range(4) for n in forward()])
'''


def later_forwards(mode):
    """Minor faults and resident pages of four forwards of RepLKNet-31B
    after four, in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k not in CHOICES}
    env.pop('THP_MEM_ALLOC_ENABLE', None)  # 4 KiB pages: one fault each
    proc = subprocess.run([sys.executable, '-c', FORWARDS, mode], env=env,
                          text=True, capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    numbers = [int(n) for n in proc.stdout.split()[-8:]]
    return numbers[0::2], numbers[1::2]


@glibc_only
def test_freed_maps_are_not_faulted_in_again_and_the_heap_stops_growing():
    map_pages = (32 << 20) // os.sysconf('SC_PAGE_SIZE')
    faults, _ = later_forwards('default')
    assert min(faults) > map_pages // 2  # a 32 MiB map unmapped and back
    faults, resident = later_forwards('keep')
    # The heap's layout differs between processes: it may take one more
    # map in one later forward (2 of 12 processes, at the 2nd to 4th
    # forward; none after the 4th in 12 forwards)
    assert sorted(faults)[-2] < map_pages // 16
    assert max(resident) - min(resident) < map_pages + map_pages // 16
