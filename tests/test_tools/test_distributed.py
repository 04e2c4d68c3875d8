"""Real multi-process runs on the CPU: torchrun (gloo) through
tools/dist_train.sh and tools/dist_test.sh."""
import os
import os.path as osp
import signal
import subprocess
import sys

import torch

from mmrep.checkpoint import read_checkpoint

from ..helpers import ROOT, free_port, run_tool
from ..helpers.tools import latest_test_metrics

CONFIG = 'configs/upernet/replknet-tiny_toy-ade.py'


def dist_env():
    return dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()),
                OMP_NUM_THREADS='1')


def short_run(data_root, iters):
    return [f'{split}_dataloader.dataset.data_root={data_root}'
            for split in ('train', 'val', 'test')] + [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'default_hooks.checkpoint.interval={iters}',
        'param_scheduler.0.end=2', 'param_scheduler.1.begin=2',
        f'param_scheduler.1.end={iters}']


def final_state(work_dir, iters):
    ckpt = read_checkpoint(osp.join(work_dir, f'iter_{iters}.pth'))
    assert ckpt['meta']['iter'] == iters
    return ckpt['state_dict']


def test_torchrun_train_then_test_with_two_processes(toy_ade, tmp_path):
    work_dir = str(tmp_path / 'train')
    # The toy config asks for SyncBN here, as the paper configs do.
    proc = run_tool('tools/dist_train.sh', CONFIG, '2', '--work-dir',
                    work_dir, '--cfg-options', *short_run(toy_ade, 6),
                    'model.backbone.norm_cfg.type=SyncBN', env=dist_env())
    assert 'Distributed training: True' in proc.stdout
    assert 'SyncBN cannot run on CPU processes' in proc.stdout
    # Warnings the tools silence: not the user's to act on.
    assert 'pkg_resources is deprecated' not in proc.stdout
    assert '`broadcast_buffers` is deprecated' not in proc.stdout
    final_state(work_dir, 6)
    test_dir = str(tmp_path / 'test')
    proc = run_tool('tools/dist_test.sh', CONFIG,
                    osp.join(work_dir, 'iter_6.pth'), '2', '--work-dir',
                    test_dir, '--cfg-options',
                    f'test_dataloader.dataset.data_root={toy_ade}',
                    env=dist_env())
    assert 'mIoU' in latest_test_metrics(test_dir)


def comparable_config(tmp_path, batch_size):
    """The toy config made deterministic: no flip, no drop path, no dropout,
    frozen backbone BN statistics, batch-independent (GN) head norms, SGD."""
    path = tmp_path / f'comparable_b{batch_size}.py'
    gn = "dict(type='GN', num_groups=8, requires_grad=True)"
    path.write_text(f"""
_base_ = ['{ROOT}/{CONFIG}']
model = dict(
    backbone=dict(drop_path_rate=0.0, norm_eval=True),
    decode_head=dict(dropout_ratio=0.0, norm_cfg={gn}),
    auxiliary_head=dict(dropout_ratio=0.0, norm_cfg={gn}))
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.05))
train_dataloader = dict(
    batch_size={batch_size}, sampler=dict(seed=0),
    dataset=dict(pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='LoadAnnotations', reduce_zero_label=True),
                           dict(type='PackSegInputs')]))
""")
    return str(path)


def test_gradients_are_averaged_across_processes(toy_ade, tmp_path):
    """2 processes x 4 images == 1 process x 8 images, step for step."""
    iters = 3
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    run_tool('tools/train.py', comparable_config(tmp_path, 8), '--work-dir',
             one, '--cfg-options', *short_run(toy_ade, iters),
             'default_hooks.checkpoint.interval=1',
             'default_hooks.checkpoint.max_keep_ckpts=5')
    run_tool('tools/dist_train.sh', comparable_config(tmp_path, 4), '2',
             '--work-dir', two, '--cfg-options', *short_run(toy_ade, iters),
             env=dist_env())
    a, b = final_state(one, iters), final_state(two, iters)
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-4, atol=1e-6,
                                   msg=key)
    # Not trivially equal: the weights moved between the saved iterations.
    first = final_state(one, 1)
    moved = [k for k in a if a[k].is_floating_point()
             and not torch.allclose(a[k], first[k])]
    assert len(moved) > len(a) // 4


def test_a_killed_rank_fails_the_whole_job(toy_ade, tmp_path):
    cmd = [osp.join(ROOT, 'tools/dist_train.sh'), osp.join(ROOT, CONFIG), '2',
           '--work-dir', str(tmp_path), '--cfg-options',
           *short_run(toy_ade, 100000), 'default_hooks.logger.interval=1']
    proc = subprocess.Popen(cmd, cwd=ROOT, env=dist_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    output = []
    try:
        for line in proc.stdout:
            output.append(line)
            if 'Iter(train)' in line:
                break
        workers = children(proc.pid)
        assert len(workers) == 2, workers
        os.kill(workers[-1], signal.SIGKILL)
        rest, _ = proc.communicate(timeout=180)
        output.append(rest)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = ''.join(output)
    assert proc.returncode != 0
    assert 'ChildFailedError' in text or 'Signals.SIGKILL' in text, \
        text[-3000:]


def children(pid):
    """PIDs of the processes whose parent is ``pid``, oldest first."""
    kids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return sorted(kids)


def test_launchers_use_the_project_virtualenv_in_a_fresh_shell():
    """After `make setup`, a shell that never activated .venv (and has no
    torch on its PATH) runs the launchers."""
    venv = osp.join(ROOT, '.venv', 'bin', 'python')
    assert osp.isfile(venv), 'make test runs from the project virtualenv'
    env = {'PATH': '/usr/bin:/bin', 'HOME': os.environ.get('HOME', '/tmp'),
           'PORT': str(free_port())}
    bare = subprocess.run(['bash', '-c', 'python3 -c "import torch"'],
                          env=env, capture_output=True)
    assert bare.returncode != 0  # no torch on this PATH
    for launcher, args in (('dist_train.sh', [CONFIG, '1']),
                           ('dist_test.sh', [CONFIG, 'x.pth', '1'])):
        proc = subprocess.run(
            ['bash', f'tools/{launcher}', *args, '--help'], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert 'usage:' in proc.stdout


def test_unireplknet_with_cp_and_sync_bn_trains_under_torchrun(toy_ade,
                                                               tmp_path):
    """Non-reentrant checkpointing of every block under DDP (2 processes),
    SyncBN from the config."""
    work_dir = str(tmp_path / 'train')
    proc = run_tool('tools/dist_train.sh',
                    'configs/upernet/unireplknet-tiny_toy-ade.py', '2',
                    '--work-dir', work_dir, '--cfg-options',
                    *short_run(toy_ade, 4), 'model.backbone.with_cp=True',
                    'model.backbone.norm_cfg.type=SyncBN', env=dist_env())
    assert 'Distributed training: True' in proc.stdout
    state = final_state(work_dir, 4)
    assert all(torch.isfinite(v).all() for k, v in state.items()
               if k.startswith('backbone.') and v.is_floating_point())
