"""The toy segmentation job end to end through the real tools."""
import glob
import math
import os
import os.path as osp
import re

import pytest
import torch

from ..helpers import ROOT, run_tool, toy_ade_options
from ..helpers.tools import latest_test_metrics, majority_miou

CONFIG = 'configs/upernet/replknet-tiny_toy-ade.py'


@pytest.fixture
def trained(toy_seg_training):
    return toy_seg_training


def test_trained_toy_model_beats_twice_the_majority_baseline(
        trained, toy_ade, tmp_path):
    _, checkpoint = trained
    run_tool('tools/test.py', CONFIG, checkpoint, '--work-dir', str(tmp_path),
             '--cfg-options', *toy_ade_options(toy_ade))
    miou = latest_test_metrics(str(tmp_path))['mIoU']
    baseline = majority_miou(toy_ade)
    assert 10 < baseline < 40  # background covers most pixels
    assert miou >= 2 * baseline, (miou, baseline)


def test_tta_and_out_write_predictions(trained, toy_ade, tmp_path):
    _, checkpoint = trained
    out = tmp_path / 'pred'
    proc = run_tool('tools/test.py', CONFIG, checkpoint, '--tta', '--out',
                    str(out), '--work-dir', str(tmp_path / 'wd'),
                    '--cfg-options', *toy_ade_options(toy_ade))
    assert 'mIoU' in proc.stdout
    assert len(glob.glob(str(out / '*.png'))) == 24


def test_resume_continues_to_the_final_iteration(toy_ade, tmp_path):
    options = toy_ade_options(toy_ade) + [
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
    # The resumed weights replace the pretrained ones: the ImageNet file is
    # neither needed nor read (a run can move to a machine without it).
    missing = str(tmp_path / 'not_on_this_machine.pth')
    proc = run_tool('tools/train.py', CONFIG, '--work-dir', work_dir,
                    '--resume', '--cfg-options', *options,
                    'model.backbone.init_cfg.type=Pretrained',
                    f'model.backbone.init_cfg.checkpoint={missing}')
    assert f'not loading the pretrained weights {missing}' in proc.stdout
    assert re.search(r'resumed .*iter_4\.pth|iter_4\.pth.*resum',
                     proc.stdout, re.I | re.S), proc.stdout[-3000:]
    resumed = torch.load(final, map_location='cpu', weights_only=False)
    assert resumed['meta']['iter'] == expected['meta']['iter'] == 8
    hub = 'message_hub', 'runtime_info'
    assert (resumed[hub[0]][hub[1]]['iter'] ==
            expected[hub[0]][hub[1]]['iter'])


def logged_losses(stdout):
    return [float(v) for v in re.findall(r' loss: ([0-9.]+)', stdout)]


def test_trains_under_torch_compile_like_eager(toy_ade, tmp_path):
    """mmengine's ``compile=True``: the compiled train_step (the large
    kernels as mmrep's custom operator, chosen when the graph runs) gives
    eager's first losses and trains to the end."""
    options = toy_ade_options(toy_ade) + [
        'train_cfg.max_iters=3', 'train_cfg.val_interval=100',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=3',
        # random draws differ between eager and inductor: none here
        'model.backbone.drop_path_rate=0.',
        'model.decode_head.dropout_ratio=0.',
        'model.auxiliary_head.dropout_ratio=0.']
    runs = {}
    for name in ('eager', 'compiled'):
        extra = ['compile=True'] if name == 'compiled' else []
        runs[name] = run_tool('tools/train.py', CONFIG, '--work-dir',
                              str(tmp_path / name), '--cfg-options',
                              *options, *extra).stdout
    assert 'Model has been "compiled"' in runs['compiled']
    assert re.search(r'depthwise_conv2d cpu\|float32\|c16\|k13\|n5-8\|'
                     r'h12-16\|w12-16\|nchw\|train: \w+', runs['compiled'])
    eager, compiled = (logged_losses(runs[n]) for n in ('eager', 'compiled'))
    assert len(eager) == len(compiled) == 3
    assert compiled[0] == pytest.approx(eager[0], rel=1e-3)
    assert all(map(math.isfinite, compiled))
    assert osp.isfile(tmp_path / 'compiled' / 'iter_3.pth')


def test_deploy_testing_gives_the_same_miou(trained, toy_ade, tmp_path):
    _, checkpoint = trained
    results = {}
    for extra in ([], ['--deploy']):
        work_dir = str(tmp_path / ('deploy' if extra else 'train_form'))
        proc = run_tool('tools/test.py', CONFIG, checkpoint, '--work-dir',
                        work_dir, *extra, '--cfg-options',
                        *toy_ade_options(toy_ade))
        merged = 'ReparameterizeHook: re-parameterized 4 blocks of RepLKNet'
        assert (merged in proc.stdout) == bool(extra)
        results[bool(extra)] = latest_test_metrics(work_dir)
    assert results[True]['mIoU'] == pytest.approx(results[False]['mIoU'],
                                                  abs=0.05)
    assert results[True]['aAcc'] == pytest.approx(results[False]['aAcc'],
                                                  abs=0.05)


def test_mmcv1_style_checkpoint_tests_with_the_same_miou(trained, toy_ade,
                                                         tmp_path):
    """The trained weights saved as mmcv 1.x saves them (numpy scalars in
    meta, optimizer state) give the same mIoU through tools/test.py."""
    import numpy as np
    work_dir, checkpoint = trained
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=False)
    mmcv1 = str(tmp_path / 'mmcv1.pth')
    torch.save({'meta': {'mmcv_version': '1.4.2', 'seed': np.int64(0),
                         'CLASSES': ('background', 'square', 'circle',
                                     'triangle'),
                         'hook_msgs': {'best_score': np.float64(0.6)}},
                'state_dict': ckpt['state_dict'],
                'optimizer': ckpt['optimizer']}, mmcv1)
    results = {}
    for name, path in (('mmengine', checkpoint), ('mmcv1', mmcv1)):
        run_tool('tools/test.py', CONFIG, path, '--work-dir',
                 str(tmp_path / name), '--cfg-options',
                 *toy_ade_options(toy_ade))
        results[name] = latest_test_metrics(str(tmp_path / name))['mIoU']
    assert results['mmcv1'] == results['mmengine']


RUNNER_SCRIPT = '''
import ast, sys
from mmengine.config import Config
from mmengine.runner import Runner
cfg = Config.fromfile(sys.argv[1])  # custom_imports brings mmrep in
cfg.merge_from_dict({k: ast.literal_eval(v) for k, v in
                     (a.split('=', 1) for a in sys.argv[4:])})
for split in ('train', 'val', 'test'):
    cfg[split + '_dataloader'].dataset.data_root = sys.argv[2]
cfg.work_dir = sys.argv[3]
for iters, resume in ((4, False), (6, True)):
    cfg.train_cfg.max_iters = cfg.param_scheduler[1].end = iters
    cfg.resume = resume
    Runner.from_cfg(cfg).train()
cfg.resume, cfg.load_from = False, cfg.work_dir + '/iter_6.pth'
print('test metrics:', Runner.from_cfg(cfg).test())
'''


def test_mmengine_runner_trains_and_resumes_the_toy_config(toy_ade,
                                                          tmp_path):
    """A user's own Runner.from_cfg script (no mmrep tool involved):
    train, resume, test."""
    script = tmp_path / 'my_train.py'
    script.write_text(RUNNER_SCRIPT)
    work_dir = tmp_path / 'work'
    proc = run_tool(str(script), CONFIG, toy_ade, str(work_dir),
                    'train_cfg.val_interval=100',
                    'default_hooks.checkpoint.interval=2',
                    'param_scheduler.0.end=2', 'param_scheduler.1.begin=2')
    assert re.search(r'resumed epoch: 0, iter: 4', proc.stdout), \
        proc.stdout[-3000:]
    assert (work_dir / 'iter_6.pth').is_file()
    assert re.search(r"test metrics: \{'aAcc'", proc.stdout)


def test_missing_pretrained_weights_fail_at_once_with_the_fixes():
    config = ('configs/upernet/'
              'upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py')
    proc = run_tool('tools/train.py', config, '--cfg-options',
                    'model.backbone.init_cfg.checkpoint=nowhere/31B.pth',
                    check=False)
    assert proc.returncode != 0
    assert "the pretrained weights 'nowhere/31B.pth' do not exist" in \
        proc.stdout
    assert 'model.backbone.init_cfg.checkpoint=PATH' in proc.stdout
    assert 'model.backbone.init_cfg=None' in proc.stdout
    assert 'Runner' not in proc.stdout and 'Traceback' in proc.stdout


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path):
    """A work dir whose latest checkpoint is another config's (the data loss
    of configs sharing a work dir)."""
    foreign = tmp_path / 'epoch_1.pth'
    torch.save({'meta': {'experiment_name': 'fcos_replknet31b_20261128'},
                'state_dict': {'backbone.stem.0.conv.weight':
                               torch.zeros(8, 3, 3, 3),
                               'bbox_head.conv_cls.weight':
                               torch.zeros(80, 256, 3, 3)}}, foreign)
    (tmp_path / 'last_checkpoint').write_text(str(foreign))
    proc = run_tool('tools/train.py', CONFIG, '--work-dir', str(tmp_path),
                    '--resume', check=False)
    assert proc.returncode != 0
    assert (f'--resume: {foreign} (written by fcos_replknet31b_20261128) '
            f'is not a checkpoint of the model of {ROOT}/{CONFIG}') in \
        proc.stdout
    assert 'bbox_head.conv_cls.weight' in proc.stdout
