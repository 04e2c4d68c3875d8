"""tools/slurm_train.sh and slurm_test.sh on a real one-node Slurm cluster
(CPU-only: GPUS_PER_NODE=0, two tasks, gloo)."""
import os
import os.path as osp
import sys

import pytest

from ..helpers import run_tool
from ..helpers.slurm_cluster import SlurmCluster, missing_binaries
from ..helpers.tools import latest_test_metrics

CONFIG = 'configs/upernet/replknet-tiny_toy-ade.py'


@pytest.fixture(scope='module')
def slurm(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip('starting slurmctld/slurmd/munged needs root; this '
                    'machine runs the tests as an unprivileged user')
    missing = missing_binaries()
    assert not missing, (f'{missing} not installed: `make test` installs '
                         f'Debian\'s slurmctld slurmd slurm-client munge')
    cluster = SlurmCluster(tmp_path_factory.mktemp('slurm')).start()
    yield cluster
    cluster.stop()


def slurm_env(cluster):
    return dict(cluster.env, PYTHON=sys.executable, GPUS='2',
                GPUS_PER_NODE='0', CPUS_PER_TASK='1', OMP_NUM_THREADS='1',
                MASTER_PORT=str(29700 + os.getpid() % 200))


def test_slurm_train_then_test_on_a_cpu_cluster(slurm, toy_ade, tmp_path):
    work_dir = str(tmp_path / 'train')
    data = [f'{split}_dataloader.dataset.data_root={toy_ade}'
            for split in ('train', 'val', 'test')]
    proc = run_tool(
        'tools/slurm_train.sh', slurm.partition, 'mmrep-toy', CONFIG,
        '--work-dir', work_dir, '--cfg-options', *data,
        'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
        'default_hooks.checkpoint.interval=4', 'param_scheduler.0.end=2',
        'param_scheduler.1.begin=2', 'param_scheduler.1.end=4',
        env=slurm_env(slurm), timeout=600)
    assert 'Distributed training: True' in proc.stdout, slurm.logs()
    assert osp.exists(osp.join(work_dir, 'iter_4.pth'))
    test_dir = str(tmp_path / 'test')
    run_tool('tools/slurm_test.sh', slurm.partition, 'mmrep-toy-test', CONFIG,
             osp.join(work_dir, 'iter_4.pth'), '--work-dir', test_dir,
             '--cfg-options', f'test_dataloader.dataset.data_root={toy_ade}',
             env=slurm_env(slurm), timeout=600)
    assert 'mIoU' in latest_test_metrics(test_dir)
