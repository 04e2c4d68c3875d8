import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

# Without a GPU, Triton kernels run in its interpreter (must be set before
# triton is imported anywhere).
if not torch.cuda.is_available():
    os.environ.setdefault('TRITON_INTERPRET', '1')

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = osp.join(ROOT, 'tools')
sys.path.insert(0, TOOLS)

TINY_ARCH = dict(large_kernel_sizes=[7, 7, 5, 5], layers=[1, 1, 1, 1],
                 channels=[8, 16, 32, 64], small_kernel=3, dw_ratio=1)


def run_tool(*args, env=None, timeout=1200, check=True):
    """Run a command from the repo root with this interpreter; return the
    CompletedProcess (stdout and stderr merged into stdout)."""
    cmd = [a if not a.endswith('.py') or osp.isabs(a) else osp.join(ROOT, a)
           for a in args]
    if cmd[0].endswith('.py'):
        cmd = [sys.executable] + cmd
    proc = subprocess.run(cmd, cwd=ROOT, env=env, timeout=timeout, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if check and proc.returncode != 0:
        raise AssertionError(f'{cmd} exited {proc.returncode}:\n'
                             f'{proc.stdout[-6000:]}')
    return proc


def train_toy(config, work_dir, *options):
    """Train ``config`` with tools/train.py; return its last checkpoint."""
    run_tool('tools/train.py', config, '--work-dir', work_dir,
             '--cfg-options', *options)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


@pytest.fixture(scope='session')
def toy_ade(tmp_path_factory):
    """The toy ADE20K-layout dataset, written once per test session."""
    out = tmp_path_factory.mktemp('data') / 'toy_ade'
    run_tool('tools/make_toy_data.py', '--task', 'seg', '--out', str(out))
    return str(out)


@pytest.fixture(scope='session')
def toy_coco(tmp_path_factory):
    """The toy COCO-format dataset, written once per test session."""
    out = tmp_path_factory.mktemp('data') / 'toy_coco'
    run_tool('tools/make_toy_data.py', '--task', 'det', '--out', str(out))
    return str(out)
