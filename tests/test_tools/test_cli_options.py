"""tools/train.py and tools/test.py options (``mmrep.apis.train`` /
``mmrep.apis.test``) on every shipped config (the config side: --amp needs a
GPU to run, as in mmseg/mmdet)."""
import os.path as osp

import pytest

from mmrep.apis import test as test_tool
from mmrep.apis import train as train_tool
from mmrep.utils.recipe import gpus_of

from ..helpers import ROOT, model_configs

CONFIGS = model_configs()


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_amp_resume_and_cfg_options(config, tmp_path):
    args = train_tool.parse_args([
        config, '--amp', '--resume', '--work-dir', str(tmp_path),
        '--cfg-options', 'randomness.seed=7'])
    cfg = train_tool.build_cfg(args)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.resume is True and cfg.load_from is None
    assert cfg.work_dir == str(tmp_path) and cfg.randomness.seed == 7


@pytest.mark.parametrize('config', [c for c in CONFIGS if '/upernet/' not in c],
                         ids=osp.basename)
def test_auto_scale_lr_for_detection(config):
    """The base is what the config's name says: GPUs x images per GPU."""
    cfg = train_tool.build_cfg(train_tool.parse_args([config,
                                                      '--auto-scale-lr']))
    expected = 16 if 'toy' in config else (  # the toy keeps mmdet's 16
        gpus_of(config) * cfg.train_dataloader.batch_size)
    assert cfg.auto_scale_lr.enable
    assert cfg.auto_scale_lr.base_batch_size == expected


@pytest.mark.parametrize('config', [c for c in CONFIGS if '/upernet/' in c],
                         ids=osp.basename)
def test_segmentation_tta_uses_the_config_pipeline(config):
    cfg, task = test_tool.build_cfg(test_tool.parse_args(
        [config, 'model.pth', '--tta', '--out', 'preds']))
    assert task == 'seg' and cfg.model.type == 'SegTTAModel'
    assert cfg.test_dataloader.dataset.pipeline[-1].type == 'TestTimeAug'
    assert cfg.test_evaluator.output_dir == 'preds'


def test_work_dir_defaults_to_the_config_name_and_options_apply():
    config = osp.join(ROOT, 'configs', 'upernet', 'replknet-tiny_toy-ade.py')
    args = train_tool.parse_args([config, '--launcher', 'pytorch',
                                  '--cfg-options', 'train_cfg.max_iters=3'])
    cfg = train_tool.build_cfg(args)
    assert cfg.work_dir == './work_dirs/replknet-tiny_toy-ade'
    assert cfg.launcher == 'pytorch' and cfg.train_cfg.max_iters == 3
    cfg, task = test_tool.build_cfg(test_tool.parse_args(
        [config, 'model.pth', '--work-dir', 'elsewhere']))
    assert (cfg.work_dir, cfg.load_from, task) == ('elsewhere', 'model.pth',
                                                   'seg')


def test_only_rank_0_dumps_the_test_metrics(monkeypatch):
    """mmengine's LoggerHook dumps them from every rank into one file."""
    import types

    from mmengine.hooks import LoggerHook
    for rank in (0, 1):
        hook = LoggerHook()
        runner = types.SimpleNamespace(hooks=[hook])  # no log dir to write
        monkeypatch.setattr(test_tool, 'get_rank', lambda: rank)
        test_tool.dump_metrics_on_rank0_only(runner)
        assert ('after_test_epoch' in vars(hook)) == (rank == 1)
        if rank == 1:
            hook.after_test_epoch(runner, metrics={'mIoU': 1.})  # writes none


@pytest.mark.parametrize('config', [c for c in CONFIGS if '/upernet/' not in c
                                    and 'toy' not in c], ids=osp.basename)
def test_detection_tta_builds_or_names_the_mask_head(config):
    """mmdet 3.x's TTA merges boxes only: a mask model is refused with the
    options that make it a box model, and builds with them."""
    args = [config, 'model.pth', '--tta']
    if '/fcos/' not in config:
        with pytest.raises(ValueError, match='has a mask head'):
            test_tool.build_cfg(test_tool.parse_args(args))
        args += ['--cfg-options', 'model.roi_head.mask_head=None',
                 'model.roi_head.mask_roi_extractor=None',
                 'test_evaluator.metric=bbox']
    cfg, task = test_tool.build_cfg(test_tool.parse_args(args))
    assert task == 'det' and cfg.model.type == 'DetTTAModel'
    assert cfg.model.module.backbone.type in ('RepLKNet', 'UniRepLKNet')
    assert cfg.test_dataloader.dataset.pipeline[-1].type == 'TestTimeAug'
