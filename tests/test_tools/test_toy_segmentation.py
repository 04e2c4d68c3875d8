"""The toy segmentation job end to end through the real tools."""
import glob
import os
import os.path as osp
import re

import pytest
import torch

from toy_demo import latest_test_metrics, majority_miou

from ..conftest import run_tool, train_toy

CONFIG = 'configs/upernet/replknet-tiny_toy-ade.py'


def data_options(root):
    return [f'{split}_dataloader.dataset.data_root={root}'
            for split in ('train', 'val', 'test')]


@pytest.fixture(scope='module')
def trained(toy_ade, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('toy_ade_train'))
    return work_dir, train_toy(CONFIG, work_dir, *data_options(toy_ade))


def test_trained_toy_model_beats_twice_the_majority_baseline(
        trained, toy_ade, tmp_path):
    _, checkpoint = trained
    run_tool('tools/test.py', CONFIG, checkpoint, '--work-dir', str(tmp_path),
             '--cfg-options', *data_options(toy_ade))
    miou = latest_test_metrics(str(tmp_path))['mIoU']
    baseline = majority_miou(toy_ade)
    assert 10 < baseline < 40  # background covers most pixels
    assert miou >= 2 * baseline, (miou, baseline)


def test_tta_and_out_write_predictions(trained, toy_ade, tmp_path):
    _, checkpoint = trained
    out = tmp_path / 'pred'
    proc = run_tool('tools/test.py', CONFIG, checkpoint, '--tta', '--out',
                    str(out), '--work-dir', str(tmp_path / 'wd'),
                    '--cfg-options', *data_options(toy_ade))
    assert 'mIoU' in proc.stdout
    assert len(glob.glob(str(out / '*.png'))) == 24


def test_resume_continues_to_the_final_iteration(toy_ade, tmp_path):
    options = data_options(toy_ade) + [
        'train_cfg.max_iters=8', 'train_cfg.val_interval=100',
        'default_hooks.checkpoint.interval=4',
        'default_hooks.checkpoint.max_keep_ckpts=5',
        'param_scheduler.0.end=2', 'param_scheduler.1.begin=2',
        'param_scheduler.1.end=8']
    work_dir = str(tmp_path)
    run_tool('tools/train.py', CONFIG, '--work-dir', work_dir,
             '--cfg-options', *options)
    # Simulate a job stopped right after the iteration-4 checkpoint.
    final = osp.join(work_dir, 'iter_8.pth')
    expected = torch.load(final, map_location='cpu', weights_only=False)
    os.remove(final)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, 'iter_4.pth'))
    proc = run_tool('tools/train.py', CONFIG, '--work-dir', work_dir,
                    '--resume', '--cfg-options', *options)
    assert re.search(r'resumed .*iter_4\.pth|iter_4\.pth.*resum',
                     proc.stdout, re.I | re.S), proc.stdout[-3000:]
    resumed = torch.load(final, map_location='cpu', weights_only=False)
    assert resumed['meta']['iter'] == expected['meta']['iter'] == 8
    hub = 'message_hub', 'runtime_info'
    assert (resumed[hub[0]][hub[1]]['iter'] ==
            expected[hub[0]][hub[1]]['iter'])


def test_deploy_testing_gives_the_same_miou(trained, toy_ade, tmp_path):
    _, checkpoint = trained
    results = {}
    for extra in ([], ['--deploy']):
        work_dir = str(tmp_path / ('deploy' if extra else 'train_form'))
        proc = run_tool('tools/test.py', CONFIG, checkpoint, '--work-dir',
                        work_dir, *extra, '--cfg-options',
                        *data_options(toy_ade))
        assert ('ReparameterizeHook: merged 4 large-kernel' in proc.stdout) \
            == bool(extra)
        results[bool(extra)] = latest_test_metrics(work_dir)
    assert results[True]['mIoU'] == pytest.approx(results[False]['mIoU'],
                                                  abs=0.05)
    assert results[True]['aAcc'] == pytest.approx(results[False]['aAcc'],
                                                  abs=0.05)
