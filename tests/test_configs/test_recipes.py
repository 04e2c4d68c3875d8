"""Every paper config, resolved, against the official runs' recipes.

RepLKNet: the official release's configs (github.com/DingXiaoH/
RepLKNet-pytorch, segmentation/configs for mmseg 0.x, detection/configs for
mmdet 2.x). GPU counts come from their own comments; where a config has
none, the count that gives its siblings' 5.12M training images is marked
"inferred". The detection configs state images per GPU only; 8 GPUs is
mmdet's convention.

UniRepLKNet: the official release's configs (github.com/AILab-CVC/
UniRepLKNet, segmentation/configs/ade20k for mmseg 0.27, detection/configs/
coco for mmdet 2.28), 8 GPUs x 2 images as their comments say; the rows
marked "not official" (the XL UperNet, Mask R-CNN) say where they come
from.

These tables are what keep the recipes from drifting: change them only
with a source.
"""
import os.path as osp
import re

import pytest
from mmengine.config import Config

from mmrep.utils.recipe import gpus_of, rescale, summarize

from ..helpers import (RENAMED, ROOT, config_id, configs, load,
                       run_tool)

# (GPUs of the 31B IN-22K and 31L rows: inferred.)
SEG = {
    'upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py': dict(
        gpus=64, images_per_gpu=2, steps=40000, warmup=400, crop=512,
        scale=(2048, 512), test='whole', drop_path=0.5),
    'upernet_replknet31b-in22k_8xb2-accum8-320k_ade20k-640x640.py': dict(
        gpus=64, images_per_gpu=2, steps=40000, warmup=400, crop=640,
        scale=(2048, 512), test=('slide', 640, 426), drop_path=0.3),
    'upernet_replknet31l-in22k_8xb1-accum8-640k_ade20k-640x640.py': dict(
        gpus=64, images_per_gpu=1, steps=80000, warmup=800, crop=640,
        scale=(2048, 512), test=('slide', 640, 426), drop_path=0.3),
    'upernet_replknetxl_8xb2-accum2-320k_ade20k-640x640.py': dict(
        gpus=16, images_per_gpu=2, steps=160000, warmup=1500, crop=640,
        scale=(2048, 512), test=('slide', 640, 426), drop_path=0.5),
    'upernet_replknet31b_8xb2-accum4-80k_cityscapes-769x769.py': dict(
        gpus=32, images_per_gpu=2, steps=20000, warmup=400, crop=769,
        scale=(2049, 1025), test='whole', drop_path=0.5),
}
# All segmentation runs: AdamW 2e-4, wd 0.05, no decay on norms; linear
# warm-up from 1e-6 then poly 1.0 to 0; evaluation and checkpoints every
# 2000 steps; resize ratio 0.5-2.0; --aug-test ratios of the test scale.
SEG_RATIOS = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
MULTI_SCALE = [(s, 1333) for s in range(480, 801, 32)]
CASCADE = dict(gpus=8, images_per_gpu=1, lr=4e-4, epochs=36,
               milestones=[27, 33], warmup=('LinearLR', 0.001, 500),
               train_scales=[MULTI_SCALE, [(400, 1333), (500, 1333),
                                           (600, 1333)], MULTI_SCALE])
DET = {
    'fcos_replknet31b_fpn_8xb2-ms-640-800-2x_coco.py': dict(
        gpus=8, images_per_gpu=2, lr=2e-4, epochs=24, milestones=[16, 22],
        warmup=('ConstantLR', 1 / 3, 500), drop_path=0.5, clip=35,
        train_scales=[[(1333, 640), (1333, 800)]]),
    'cascade-mask-rcnn_replknet31b_fpn_4conv1fc-giou_8xb1-ms-crop-3x_coco.py':
    dict(CASCADE, drop_path=0.6),
    'cascade-mask-rcnn_replknet31b-in22k_fpn_4conv1fc-giou_8xb1-ms-crop-3x_'
    'coco.py': dict(CASCADE, drop_path=0.4),
    'cascade-mask-rcnn_replknet31l-in22k_fpn_4conv1fc-giou_8xb1-ms-crop-3x_'
    'coco.py': dict(CASCADE, drop_path=0.7),
    'cascade-mask-rcnn_replknetxl_fpn_4conv1fc-giou_8xb1-ms-crop-3x_coco.py':
    dict(CASCADE, drop_path=0.5),
}


# UniRepLKNet UperNet, ADE20K: 8 GPUs x 2 images, 160k iterations, warm-up
# 1500, AdamW 1e-4 / wd 0.05 with layer-wise lr decay, evaluation and
# checkpoints every 4000 iterations, whole-image test.
def uni_seg(arch, crop, drop_path, decay, with_cp, weights):
    scale = (2048, 512) if crop == 512 else (2560, 640)
    return dict(arch=arch, crop=crop, scale=scale, drop_path=drop_path,
                decay=decay, with_cp=with_cp, weights=weights)


IN1K = 'checkpoints/unireplknet_{}_in1k_224_acc{}.pth'
IN22K = 'checkpoints/unireplknet_{}_in22k_to_in1k_384_acc{}.pth'
UNI_SEG_NAME = 'upernet_unireplknet-{}_8xb2-160k_ade20k-{}.py'
UNI_SEG = {
    UNI_SEG_NAME.format('t', '512x512'): uni_seg(
        'T', 512, 0.2, (1.0, 9), False, IN1K.format('t', '83.21')),
    UNI_SEG_NAME.format('s', '512x512'): uni_seg(
        'S', 512, 0.3, (0.9, 12), True, IN1K.format('s', '83.91')),
    UNI_SEG_NAME.format('s-in22k', '512x512'): uni_seg(
        'S', 512, 0.3, (0.9, 12), True, IN22K.format('s', '86.44')),
    UNI_SEG_NAME.format('s-in22k', '640x640'): uni_seg(
        'S', 640, 0.3, (0.9, 12), True, IN22K.format('s', '86.44')),
    UNI_SEG_NAME.format('b-in22k', '640x640'): uni_seg(
        'B', 640, 0.3, (0.9, 12), True, IN22K.format('b', '87.40')),
    UNI_SEG_NAME.format('l-in22k', '640x640'): uni_seg(
        'L', 640, 0.4, (0.85, 12), True, IN22K.format('l', '87.88')),
    # Not official (the release has no XL config): L's recipe with XL.
    UNI_SEG_NAME.format('xl-in22k', '640x640'): uni_seg(
        'XL', 640, 0.4, (0.85, 12), True, IN22K.format('xl', '87.96')),
}


# UniRepLKNet Cascade Mask R-CNN 3x, COCO: 8 GPUs x 2 images, AdamW 1e-4 /
# wd 0.05, layer-wise decay over 12 layers, warm-up 500 (schedule_3x), the
# DETR-style augmentation; EMA (ExpMomentumEMAHook, momentum 1e-4) in the
# S IN-22K, B, L and XL configs. Mask R-CNN (not official): the T and S
# Cascade backbones and optimizer on mmdet's Swin 1x / ConvNeXt 3x
# schedules (warm-up 1000).
def uni_det(arch, drop_path, decay, weights, ema=False, epochs=36,
            warmup=500):
    ms_crop = [MULTI_SCALE, [(400, 1333), (500, 1333), (600, 1333)],
               MULTI_SCALE]
    return dict(arch=arch, drop_path=drop_path, decay=decay, weights=weights,
                ema=ema, epochs=epochs, warmup=warmup,
                milestones=[8, 11] if epochs == 12 else [27, 33],
                train_scales=[] if epochs == 12 else ms_crop)


UNI_CASCADE = ('cascade-mask-rcnn_unireplknet-{}_fpn_4conv1fc-giou_8xb2-ms-'
               'crop-3x_coco.py')
UNI_MASK = 'mask-rcnn_unireplknet-{}_fpn_8xb2-{}_coco.py'
T1K, S1K = IN1K.format('t', '83.21'), IN1K.format('s', '83.91')
UNI_DET = {
    UNI_CASCADE.format('t'): uni_det('T', 0.3, 0.8, T1K),
    UNI_CASCADE.format('s'): uni_det('S', 0.5, 0.8, S1K),
    UNI_CASCADE.format('s-in22k'): uni_det(
        'S', 0.5, 0.8, IN22K.format('s', '86.44'), ema=True),
    UNI_CASCADE.format('b-in22k'): uni_det(
        'B', 0.6, 0.8, IN22K.format('b', '87.40'), ema=True),
    UNI_CASCADE.format('l-in22k'): uni_det(
        'L', 0.7, 0.7, IN22K.format('l', '87.88'), ema=True),
    UNI_CASCADE.format('xl-in22k'): uni_det(
        'XL', 0.7, 0.7, IN22K.format('xl', '87.96'), ema=True),
    UNI_MASK.format('t', '1x'): uni_det('T', 0.3, 0.8, T1K, epochs=12,
                                        warmup=1000),
    UNI_MASK.format('s', '1x'): uni_det('S', 0.5, 0.8, S1K, epochs=12,
                                        warmup=1000),
    UNI_MASK.format('t', 'ms-crop-3x'): uni_det('T', 0.3, 0.8, T1K,
                                                warmup=1000),
    UNI_MASK.format('s', 'ms-crop-3x'): uni_det('S', 0.5, 0.8, S1K,
                                                warmup=1000),
}

SEG_CONFIGS = [p for p in configs('upernet') if osp.basename(p) in SEG]
DET_CONFIGS = [p for p in configs('fcos') + configs('cascade_mask_rcnn')
               if osp.basename(p) in DET]
UNI_SEG_CONFIGS = [p for p in configs('upernet')
                   if osp.basename(p) in UNI_SEG]
UNI_DET_CONFIGS = [p for p in configs('mask_rcnn') +
                   configs('cascade_mask_rcnn') if osp.basename(p) in UNI_DET]


def transform(pipeline, name):
    found = [t for t in pipeline if t['type'] == name]
    assert len(found) == 1, f'one {name} in {pipeline}'
    return found[0]


def test_every_paper_config_has_an_official_row():
    names = {osp.basename(p) for p in configs('upernet') + configs('fcos') +
             configs('cascade_mask_rcnn')}
    uni_cascade = {n for n in UNI_DET if n.startswith('cascade')}
    assert names == set(SEG) | set(DET) | set(UNI_SEG) | uni_cascade
    uni_mask = {osp.basename(p) for p in configs('mask_rcnn')
                if 'unireplknet' in p}
    assert uni_mask == {n for n in UNI_DET if n.startswith('mask-rcnn')}


def check_name(path, cfg):
    """The OpenMMLab name says what the config does."""
    name = osp.basename(path)
    gpus, batch = re.search(r'_(\d+)xb(\d+)-', name).groups()
    assert cfg.train_dataloader.batch_size == int(batch)
    accum = re.search(r'-accum(\d+)-', name)
    assert cfg.optim_wrapper.get('accumulative_counts', 1) == (
        int(accum.group(1)) if accum else 1)
    iters = re.search(r'-(\d+)k_', name)
    if iters:
        assert cfg.train_cfg.max_iters == int(iters.group(1)) * 1000
    else:
        epochs = int(re.search(r'-(\d+)x_coco', name).group(1)) * 12
        assert cfg.train_cfg.max_epochs == epochs
    return int(gpus)


@pytest.mark.parametrize('path', SEG_CONFIGS, ids=config_id)
def test_segmentation_recipe_is_the_official_one(path):
    official = SEG[osp.basename(path)]
    cfg = load(path)
    gpus = check_name(path, cfg)
    recipe = summarize(cfg, gpus)
    per_step = official['gpus'] * official['images_per_gpu']
    assert recipe['images_per_step'] == per_step
    assert recipe['training_images'] == per_step * official['steps']
    assert recipe['warmup_fraction'] == official['warmup'] / official['steps']
    accum = recipe['accumulative_counts']
    assert cfg.train_cfg.val_interval == 2000 * accum
    assert cfg.default_hooks.checkpoint.interval == 2000 * accum

    optim = cfg.optim_wrapper
    assert optim.type == 'OptimWrapper' and optim.optimizer.type == 'AdamW'
    assert (optim.optimizer.lr, optim.optimizer.weight_decay) == (2e-4, 0.05)
    assert tuple(optim.optimizer.betas) == (0.9, 0.999)
    assert optim.paramwise_cfg.norm_decay_mult == 0
    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.begin) == (
        'LinearLR', 1e-6, 0)
    assert (poly.type, poly.power, poly.eta_min) == ('PolyLR', 1.0, 0.0)
    assert poly.begin == warmup.end and poly.end == cfg.train_cfg.max_iters

    backbone = cfg.model.backbone
    assert backbone.drop_path_rate == official['drop_path']
    assert backbone.norm_cfg.type == 'SyncBN' and backbone.with_cp

    crop = (official['crop'], official['crop'])
    train = cfg.train_dataloader.dataset.pipeline
    resize = transform(train, 'RandomResize')
    assert tuple(resize.scale) == official['scale']
    assert tuple(resize.ratio_range) == (0.5, 2.0)
    assert tuple(transform(train, 'RandomCrop').crop_size) == crop
    assert tuple(cfg.model.data_preprocessor.size) == crop
    test = cfg.test_dataloader.dataset.pipeline
    assert tuple(transform(test, 'Resize').scale) == official['scale']
    if official['test'] == 'whole':
        assert cfg.model.test_cfg == dict(mode='whole')
    else:
        mode, window, stride = official['test']
        assert cfg.model.test_cfg == dict(mode=mode, crop_size=(window,) * 2,
                                          stride=(stride,) * 2)

    scales, flips = cfg.tta_pipeline[1].transforms[:2]
    w, h = official['scale']
    assert [tuple(t.scale) for t in scales] == [
        (int(w * r), int(h * r)) for r in SEG_RATIOS]
    assert all(t.type == 'Resize' and t.keep_ratio for t in scales)
    assert [t.prob for t in flips] == [0., 1.]


@pytest.mark.parametrize('path', SEG_CONFIGS, ids=config_id)
def test_the_official_gpu_count_gets_the_official_iterations(path):
    official = SEG[osp.basename(path)]
    cfg = load(path)
    options = rescale(cfg, gpus_of(path), official['gpus'],
                      official['images_per_gpu'])
    assert options['optim_wrapper.accumulative_counts'] == 1
    assert options['train_cfg.max_iters'] == official['steps']
    assert options['param_scheduler.0.end'] == official['warmup']
    assert options['train_cfg.val_interval'] == 2000
    cfg.merge_from_dict(options)
    kept = ('images_per_step', 'optimizer_steps', 'training_images',
            'warmup_fraction', 'lr')
    scaled = summarize(cfg, official['gpus'])
    written = summarize(load(path), gpus_of(path))
    assert [scaled[k] for k in kept] == [written[k] for k in kept]


@pytest.mark.parametrize('path', DET_CONFIGS, ids=config_id)
def test_detection_recipe_is_the_official_one(path):
    official = DET[osp.basename(path)]
    cfg = load(path)
    gpus = check_name(path, cfg)
    assert gpus == official['gpus']
    assert cfg.train_dataloader.batch_size == official['images_per_gpu']
    assert cfg.auto_scale_lr.base_batch_size == gpus * official[
        'images_per_gpu']
    assert cfg.train_cfg.max_epochs == official['epochs']
    optim = cfg.optim_wrapper
    assert optim.optimizer.type == 'AdamW'
    assert (optim.optimizer.lr, optim.optimizer.weight_decay) == (
        official['lr'], 0.05)
    assert optim.paramwise_cfg.norm_decay_mult == 0
    assert optim.get('accumulative_counts', 1) == 1
    clip = optim.get('clip_grad')
    assert (clip and clip.max_norm) == official.get('clip')
    warmup, steps = cfg.param_scheduler
    kind, factor, end = official['warmup']
    assert warmup.type == kind and warmup.end == end and not warmup.by_epoch
    assert warmup.get('start_factor', warmup.get('factor')) == factor
    assert steps.type == 'MultiStepLR' and steps.milestones == official[
        'milestones']
    assert cfg.model.backbone.drop_path_rate == official['drop_path']
    assert choice_scales(cfg.train_dataloader.dataset.pipeline) == official[
        'train_scales']
    test = cfg.test_dataloader.dataset.pipeline
    assert tuple(transform(test, 'Resize').scale) == (1333, 800)
    rpn = cfg.model.get('train_cfg', {}).get('rpn')
    if rpn:  # mmdet's value (the toy config's differs, and says why)
        assert rpn.allowed_border == 0


def choice_scales(pipeline):
    """The scale lists of every RandomChoiceResize, in pipeline order."""
    found = []
    for t in pipeline:
        if t['type'] == 'RandomChoiceResize':
            found.append([tuple(s) for s in t['scales']])
        for branch in t.get('transforms', []):
            found += choice_scales(branch)
    return found


def test_former_names_are_the_same_configs():
    for old, new in RENAMED.items():
        old_cfg = Config.fromfile(osp.join(ROOT, 'configs', old))
        assert old_cfg.to_dict() == load(osp.join(ROOT, 'configs',
                                                  new)).to_dict()


def test_config_names_are_unique():
    """The default work dir is named after the config file alone."""
    from glob import glob
    names = [osp.basename(p) for p in glob(osp.join(ROOT, 'configs', '*',
                                                    '*.py'))]
    assert len(names) == len(set(names))


def test_a_recipe_that_cannot_be_split_is_refused_by_name():
    xl = load(osp.join(ROOT, 'configs', 'upernet',
                       'upernet_replknetxl_8xb2-accum2-320k_ade20k-640x640.py'))
    with pytest.raises(ValueError, match=r'64 GPUs x 2 images .* 32 images'):
        rescale(xl, 8, 64)
    with pytest.raises(ValueError, match=r'3 GPUs x 2 images'):
        rescale(xl, 8, 3)
    # 32 GPUs fit with one image each: no accumulation, the official counts
    options = rescale(xl, 8, 32, images_per_gpu=1)
    assert options['train_dataloader.batch_size'] == 1
    assert options['train_cfg.max_iters'] == 160000


def test_fewer_gpus_for_an_epoch_based_recipe_accumulate():
    """Epochs stay; the warm-up, counted in iterations, doubles."""
    path = DET_CONFIGS[0]
    options = rescale(load(path), gpus_of(path), 4)
    assert options == {'optim_wrapper.accumulative_counts': 2,
                       'param_scheduler.0.end': 1000}
    with pytest.raises(ValueError):
        rescale(load(path), gpus_of(path), 16)


def test_a_name_without_the_gpu_count_is_reported():
    with pytest.raises(ValueError, match='my_config.py.*GPU count'):
        gpus_of('configs/my_config.py')


def check_uni_backbone(cfg, official):
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.arch) == ('UniRepLKNet', official['arch'])
    assert backbone.drop_path_rate == official['drop_path']
    assert backbone.layer_scale_init_value == 1e-6
    assert backbone.norm_cfg.type == 'SyncBN'
    assert backbone.init_cfg == dict(type='Pretrained',
                                     checkpoint=official['weights'])


def check_uni_optimizer(cfg, decay_rate, num_layers):
    optim = cfg.optim_wrapper
    assert optim.type == 'OptimWrapper'  # fp32, as the official runs
    assert optim.get('accumulative_counts', 1) == 1
    assert not optim.get('clip_grad')
    assert optim.optimizer.type == 'AdamW'
    assert (optim.optimizer.lr, optim.optimizer.weight_decay) == (1e-4, 0.05)
    assert tuple(optim.optimizer.betas) == (0.9, 0.999)
    assert optim.constructor == 'UniRepLKNetLayerDecayOptimizerConstructor'
    assert optim.paramwise_cfg == dict(decay_rate=decay_rate,
                                       decay_type='layer_wise',
                                       num_layers=num_layers)


@pytest.mark.parametrize('path', UNI_SEG_CONFIGS, ids=config_id)
def test_unireplknet_segmentation_recipe_is_the_official_one(path):
    official = UNI_SEG[osp.basename(path)]
    cfg = load(path)
    assert check_name(path, cfg) == 8
    recipe = summarize(cfg, 8)
    assert recipe['images_per_step'] == 16
    assert recipe['training_images'] == 16 * 160000
    assert recipe['warmup_fraction'] == 1500 / 160000
    assert cfg.train_cfg.val_interval == 4000
    checkpoint = cfg.default_hooks.checkpoint
    assert (checkpoint.interval, checkpoint.save_best) == (4000, 'mIoU')
    check_uni_optimizer(cfg, *official['decay'])
    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.begin, warmup.end) == (
        'LinearLR', 1e-6, 0, 1500)
    assert (poly.type, poly.power, poly.eta_min) == ('PolyLR', 1.0, 0.0)
    assert (poly.begin, poly.end) == (1500, 160000)

    check_uni_backbone(cfg, official)
    assert cfg.model.backbone.with_cp == official['with_cp']
    assert cfg.model.auxiliary_head.loss_decode.loss_weight == 0.4
    assert cfg.model.test_cfg == dict(mode='whole')

    crop = (official['crop'], official['crop'])
    train = cfg.train_dataloader.dataset.pipeline
    resize = transform(train, 'RandomResize')
    assert tuple(resize.scale) == official['scale']
    assert tuple(resize.ratio_range) == (0.5, 2.0)
    assert tuple(transform(train, 'RandomCrop').crop_size) == crop
    assert tuple(cfg.model.data_preprocessor.size) == crop
    test = cfg.test_dataloader.dataset.pipeline
    assert [t.type for t in test[1:3]] == ['Resize', 'ResizeToMultiple']
    assert tuple(transform(test, 'Resize').scale) == official['scale']
    assert transform(test, 'ResizeToMultiple').size_divisor == 32

    scales, multiple, flips = cfg.tta_pipeline[1].transforms[:3]
    w, h = official['scale']
    assert [tuple(t.scale) for t in scales] == [
        (int(w * r), int(h * r)) for r in SEG_RATIOS]
    assert all(t.type == 'Resize' and t.keep_ratio for t in scales)
    assert [(t.type, t.size_divisor) for t in multiple] == [
        ('ResizeToMultiple', 32)]
    assert [t.prob for t in flips] == [0., 1.]


@pytest.mark.parametrize('path', UNI_DET_CONFIGS, ids=config_id)
def test_unireplknet_detection_recipe_is_the_official_one(path):
    official = UNI_DET[osp.basename(path)]
    cfg = load(path)
    assert check_name(path, cfg) == 8
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.train_cfg.max_epochs == official['epochs']
    check_uni_optimizer(cfg, official['decay'], 12)
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end, warmup.by_epoch) == (
        'LinearLR', 0.001, official['warmup'], False)
    assert steps.type == 'MultiStepLR' and steps.by_epoch
    assert steps.milestones == official['milestones']

    check_uni_backbone(cfg, official)
    assert cfg.model.backbone.with_cp
    ema = [h for h in cfg.get('custom_hooks', []) if h.type == 'EMAHook']
    assert ema == ([dict(type='EMAHook', ema_type='ExpMomentumEMA',
                         momentum=0.0001, update_buffers=True, priority=49)]
                   if official['ema'] else [])

    assert choice_scales(cfg.train_dataloader.dataset.pipeline) == official[
        'train_scales']
    test = cfg.test_dataloader.dataset.pipeline
    assert tuple(transform(test, 'Resize').scale) == (1333, 800)
    roi = cfg.model.roi_head
    if cfg.model.type == 'CascadeRCNN':
        assert cfg.model.train_cfg.rpn.allowed_border == 0
        stds = [list(h.bbox_coder.target_stds) for h in roi.bbox_head]
        assert stds == [[0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1],
                        [0.033, 0.033, 0.067, 0.067]]
        for head in roi.bbox_head:
            assert (head.type, head.num_shared_convs, head.num_shared_fcs,
                    head.norm_cfg.type, head.reg_decoded_bbox) == (
                        'ConvFCBBoxHead', 4, 1, 'SyncBN', True)
            assert (head.loss_bbox.type, head.loss_bbox.loss_weight) == (
                'GIoULoss', 10.0)
    else:
        assert cfg.model.type == 'MaskRCNN'
        assert roi.bbox_head.type == 'Shared2FCBBoxHead'


@pytest.mark.parametrize('path', UNI_SEG_CONFIGS + UNI_DET_CONFIGS,
                         ids=config_id)
def test_unireplknet_recipe_on_4_gpus_accumulates(path):
    """Half the GPUs: accumulate 2; iteration counts double, the rest
    stays."""
    cfg = load(path)
    options = rescale(cfg, 8, 4)
    cfg.merge_from_dict(options)
    kept = ('images_per_step', 'lr') + (
        ('optimizer_steps', 'training_images', 'warmup_fraction')
        if 'iterations' in summarize(cfg, 4) else ('epochs',))
    assert [summarize(cfg, 4)[k] for k in kept] == [
        summarize(load(path), 8)[k] for k in kept]
    assert options['optim_wrapper.accumulative_counts'] == 2
    warmup = UNI_DET.get(osp.basename(path), {}).get('warmup', 1500)
    assert options['param_scheduler.0.end'] == 2 * warmup
    if 'upernet' in path:
        assert options['train_cfg.max_iters'] == 320000
        assert options['train_cfg.val_interval'] == 8000
        assert options['default_hooks.checkpoint.interval'] == 8000
        assert options['param_scheduler.1.begin'] == 3000


def test_scale_recipe_tool_prints_the_options_for_unireplknet():
    config = osp.join(ROOT, 'configs', 'upernet',
                      UNI_SEG_NAME.format('t', '512x512'))
    out = run_tool('tools/scale_recipe.py', config, '--gpus', '16',
                   '--images-per-gpu', '1').stdout
    assert 'config: gpus=8, images_per_gpu=2, accumulative_counts=1, ' \
        'images_per_step=16' in out
    assert 'scaled: gpus=16, images_per_gpu=1, accumulative_counts=1, ' \
        'images_per_step=16' in out
    assert out.strip().endswith(
        '--cfg-options optim_wrapper.accumulative_counts=1 '
        'train_dataloader.batch_size=1 train_cfg.max_iters=160000 '
        'train_cfg.val_interval=4000 default_hooks.checkpoint.interval=4000 '
        'param_scheduler.0.end=1500 param_scheduler.1.begin=1500 '
        'param_scheduler.1.end=160000')
