"""tools/convert_checkpoint.py on checkpoints written in the official formats."""
import argparse
from collections import OrderedDict

import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

from mmrep.models import RepLKNet

from ..helpers import ROOT, TINY_ARCH, run_tool

ADE_31B = (f'{ROOT}/configs/upernet/'
           'upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py')


def randomize(state_dict):
    gen = torch.Generator().manual_seed(0)
    return OrderedDict(
        (k, torch.rand(v.shape, generator=gen) + 0.5 if v.is_floating_point()
         else v) for k, v in state_dict.items())


def test_imagenet_official_and_mmpretrain_become_a_clean_backbone(tmp_path):
    weights = randomize(RepLKNet(arch=TINY_ARCH).state_dict())
    official = dict(weights, **{'head.weight': torch.zeros(1000, 64),
                                'head.bias': torch.zeros(1000),
                                'norm.weight': torch.ones(64)})
    mmpretrain = {'state_dict': {'backbone.' + k: v
                                 for k, v in weights.items()},
                  'meta': {'mmpretrain_version': '1.0'}}
    for name, obj in [('official', {'model': official}),
                      ('mmpretrain', mmpretrain)]:
        src, dst = tmp_path / f'{name}.pth', tmp_path / f'{name}_clean.pth'
        torch.save(obj, src)
        proc = run_tool('tools/convert_checkpoint.py', str(src), str(dst))
        assert f'({name} format' in proc.stdout
        clean = torch.load(dst, weights_only=True)['state_dict']
        assert clean.keys() == weights.keys()
        for key in weights:
            torch.testing.assert_close(clean[key], weights[key])


def write_official_upernet(path):
    """An official mmseg 0.x UperNet-31B checkpoint: random weights of the
    full model, meta of mmcv 1.x, an optimizer state."""
    cfg = Config.fromfile(ADE_31B)
    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    cfg.model.backbone.init_cfg = None
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    state = randomize(model.state_dict())
    torch.save({'meta': {'mmseg_version': '0.20.2+', 'iter': 160000,
                         'CLASSES': ('wall', 'building'),
                         'PALETTE': [[120, 120, 120], [180, 120, 120]]},
                'state_dict': state,
                'optimizer': {'state': {}, 'param_groups': [{'lr': 0.}]}},
               path)
    return state


@pytest.fixture(scope='module')
def official_upernet(tmp_path_factory):
    path = tmp_path_factory.mktemp('official') / 'upernet_31b_official.pth'
    return path, write_official_upernet(path)


def test_official_upernet_converts_and_tests_with_the_ade_config(
        official_upernet, toy_ade, tmp_path):
    src, state = official_upernet
    dst = tmp_path / 'upernet_31b.pth'
    proc = run_tool('tools/convert_checkpoint.py', str(src), str(dst),
                    '--config', ADE_31B)
    assert '(downstream format' in proc.stdout and 'checked' in proc.stdout
    converted = torch.load(dst, weights_only=True)['state_dict']
    assert converted.keys() == state.keys()
    torch.testing.assert_close(converted['decode_head.conv_seg.weight'],
                               state['decode_head.conv_seg.weight'])
    # The ADE20K config tests it (on two toy images at a small scale).
    proc = run_tool(
        'tools/test.py', ADE_31B, str(dst), '--work-dir', str(tmp_path),
        '--cfg-options', f'test_dataloader.dataset.data_root={toy_ade}',
        'test_dataloader.dataset.indices=2',
        'test_dataloader.dataset.pipeline.1.scale=(128,128)',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False')
    assert 'mIoU' in proc.stdout
    assert 'missing keys' not in proc.stdout.lower()
    assert 'unexpected key' not in proc.stdout.lower()


def test_conversion_refuses_a_checkpoint_of_another_model(
        official_upernet, tmp_path):
    src, state = official_upernet
    broken = dict(state)
    broken.pop('decode_head.conv_seg.weight')
    broken['decode_head.conv_seg.bias'] = torch.zeros(19)
    path = tmp_path / 'cityscapes_like.pth'
    torch.save({'state_dict': broken}, path)
    proc = run_tool('tools/convert_checkpoint.py', str(path),
                    str(tmp_path / 'out.pth'), '--config', ADE_31B,
                    check=False)
    assert proc.returncode != 0
    assert 'missing keys: decode_head.conv_seg.weight' in proc.stdout
    assert 'decode_head.conv_seg.bias: checkpoint (19,) vs model (150,)' in \
        proc.stdout


def parse_cfg_options(options):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


# Three-class versions of the paper detectors (the toy data's classes).
THREE_CLASSES = {
    'fcos/fcos_replknet31b_fpn_8xb2-ms-640-800-2x_coco.py': [
        'model.bbox_head.num_classes=3', 'model.test_cfg.score_thr=0.0'],
    'cascade_mask_rcnn/cascade-mask-rcnn_replknet31b_fpn_4conv1fc-giou_'
    '8xb1-ms-crop-3x_coco.py': [
        *[f'model.roi_head.bbox_head.{i}.num_classes=3' for i in range(3)],
        'model.roi_head.mask_head.num_classes=3',
        'model.test_cfg.rcnn.score_thr=0.0'],
}


@pytest.mark.parametrize('config', sorted(THREE_CLASSES))
def test_official_mmdet2_checkpoint_converts_and_tests(config, toy_coco,
                                                       tmp_path):
    """A 3-class model fine-tuned with the official mmdet 2.x code: convert
    it, then test it with the paper config on the toy COCO data."""
    options = THREE_CLASSES[config]
    config = f'{ROOT}/configs/{config}'
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(parse_cfg_options(options))
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.init_weights()  # random, with the heads' score priors
    state = model.state_dict()
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    torch.save({'meta': {'mmdet_version': '2.25.0', 'epoch': 36,
                         'CLASSES': ('square', 'circle', 'triangle')},
                'state_dict': {'module.' + k: v for k, v in state.items()},
                'optimizer': {'state': {}, 'param_groups': []}}, src)
    proc = run_tool('tools/convert_checkpoint.py', str(src), str(dst),
                    '--config', config, '--cfg-options', *options)
    assert 'checked' in proc.stdout
    assert torch.load(dst, weights_only=True)['state_dict'].keys() == \
        state.keys()
    root = toy_coco.rstrip('/') + '/'
    proc = run_tool(
        'tools/test.py', config, str(dst), '--work-dir', str(tmp_path),
        '--cfg-options', f'test_dataloader.dataset.data_root={root}',
        'test_dataloader.dataset.ann_file=annotations/instances_val.json',
        'test_dataloader.dataset.data_prefix.img=val/',
        "test_dataloader.dataset.metainfo.classes=('square','circle',"
        "'triangle')",
        'test_dataloader.dataset.indices=2',
        'test_dataloader.dataset.pipeline.1.scale=(160,128)',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'test_evaluator.ann_file={root}annotations/instances_val.json',
        *options)
    assert 'coco/bbox_mAP' in proc.stdout
    assert 'missing keys' not in proc.stdout.lower()
