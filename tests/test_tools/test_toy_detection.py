"""The toy instance-segmentation job end to end through the real tools."""
import os.path as osp
import pickle

import mmdet
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from ..helpers import ROOT, run_tool, toy_coco_options
from ..helpers.tools import latest_test_metrics

CONFIG = 'configs/mask_rcnn/replknet-tiny_toy-coco.py'


@pytest.fixture
def trained(toy_det_checkpoint):
    return toy_det_checkpoint


def untrained_checkpoint(path):
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({'state_dict': model.state_dict()}, path)


def test_trained_toy_model_beats_an_untrained_one(trained, toy_coco,
                                                  tmp_path):
    untrained = str(tmp_path / 'untrained.pth')
    untrained_checkpoint(untrained)
    maps = {}
    for name, ckpt in (('trained', trained), ('untrained', untrained)):
        work_dir = str(tmp_path / name)
        run_tool('tools/test.py', CONFIG, ckpt, '--work-dir', work_dir,
                 '--cfg-options', *toy_coco_options(toy_coco))
        maps[name] = latest_test_metrics(work_dir)
    assert maps['trained']['coco/bbox_mAP'] >= \
        maps['untrained']['coco/bbox_mAP'] + 0.15, maps
    assert maps['trained']['coco/segm_mAP'] > \
        maps['untrained']['coco/segm_mAP'] + 0.1, maps


def test_out_pkl_and_tta(trained, toy_coco, tmp_path):
    out = tmp_path / 'results.pkl'
    proc = run_tool('tools/test.py', CONFIG, trained, '--out', str(out),
                    '--work-dir', str(tmp_path / 'a'),
                    '--cfg-options', *toy_coco_options(toy_coco))
    assert 'coco/segm_mAP' in proc.stdout
    with open(out, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 24 and 'pred_instances' in results[0]
    # mmdet's TTA merges boxes: it refuses mask models, runs box models.
    refused = run_tool('tools/test.py', CONFIG, trained, '--tta',
                       check=False)
    assert refused.returncode != 0 and 'merges boxes only' in refused.stdout
    proc = run_tool('tools/test.py', CONFIG, trained, '--tta',
                    '--work-dir', str(tmp_path / 'b'), '--cfg-options',
                    'model.roi_head.mask_head=None',
                    'model.roi_head.mask_roi_extractor=None',
                    'test_evaluator.metric=bbox', *toy_coco_options(toy_coco))
    assert 'coco/bbox_mAP' in proc.stdout
    bad = run_tool('tools/test.py', CONFIG, trained, '--out', 'x.json',
                   check=False)
    assert bad.returncode != 0 and '.pkl' in bad.stdout


MMDET_TOOLS = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools')


def test_mmdet_own_tools_train_test_and_resume(toy_coco, tmp_path):
    """mmdet's tools/train.py and test.py (shipped inside mmdet) on our
    config: mmrep comes in through the config's custom_imports only."""
    work_dir = str(tmp_path)
    # 16 training and 8 test images keep the three runs short.
    options = toy_coco_options(toy_coco) + ['train_cfg.val_interval=100',
                                        'default_hooks.checkpoint.interval=1',
                                        'train_dataloader.dataset.indices=16']
    run_tool(osp.join(MMDET_TOOLS, 'train.py'), CONFIG, '--work-dir',
             work_dir, '--cfg-options', 'train_cfg.max_epochs=1', *options)
    proc = run_tool(osp.join(MMDET_TOOLS, 'test.py'), CONFIG,
                    osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
                    osp.join(work_dir, 'test'), '--cfg-options',
                    *toy_coco_options(toy_coco),
                    'test_dataloader.dataset.indices=8')
    assert 'coco/bbox_mAP' in proc.stdout
    proc = run_tool(osp.join(MMDET_TOOLS, 'train.py'), CONFIG, '--work-dir',
                    work_dir, '--resume', '--cfg-options',
                    'train_cfg.max_epochs=2', *options)
    assert 'resumed epoch: 1' in proc.stdout, proc.stdout[-3000:]
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
