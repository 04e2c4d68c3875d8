"""Every shipped detection config loads and builds; FCOS, Mask R-CNN and
Cascade Mask R-CNN train a step and predict with real mmcv ops."""
import os.path as osp
import re

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from ..helpers import (build, config_id, configs, load, meta_params,
                       narrow_detector_heads, shrink_backbone,
                       train_step_updating_every_parameter)
from ..helpers.unireplknet import (deploy_params, official_arch,
                                   official_param_count)

DET_CONFIGS = (configs('fcos') + configs('mask_rcnn') +
               configs('cascade_mask_rcnn'))
CASCADE = ('cascade-mask-rcnn_replknet{}_fpn_4conv1fc-giou_8xb1-ms-crop-3x_'
           'coco.py')
UNI_CASCADE = ('cascade-mask-rcnn_unireplknet-{}_fpn_4conv1fc-giou_8xb2-ms-'
               'crop-3x_coco.py')
# Paper parameter counts (millions) of the models that have one: the
# RepLKNet paper, the UniRepLKNet official README.
PAPER_PARAMS = {'fcos_replknet31b_fpn_8xb2-ms-640-800-2x_coco.py': 87,
                CASCADE.format('31b'): 137,
                CASCADE.format('31b-in22k'): 137,
                CASCADE.format('31l-in22k'): 229,
                CASCADE.format('xl'): 392,
                UNI_CASCADE.format('t'): 89, UNI_CASCADE.format('s'): 113,
                UNI_CASCADE.format('s-in22k'): 113,
                UNI_CASCADE.format('b-in22k'): 155,
                UNI_CASCADE.format('l-in22k'): 276,
                UNI_CASCADE.format('xl-in22k'): 443}
# Empty annotations and tiny images: one config per detector and family.
EDGE_CONFIGS = [p for p in DET_CONFIGS if osp.basename(p) in (
    'fcos_replknet31b_fpn_8xb2-ms-640-800-2x_coco.py',
    'mask-rcnn_replknet31b_fpn_8xb2-1x_coco.py', CASCADE.format('31b'),
    UNI_CASCADE.format('t'))]
# One training step and prediction: those and every other UniRepLKNet
# config.
STEP_CONFIGS = sorted(set(EDGE_CONFIGS) | {
    p for p in DET_CONFIGS if 'unireplknet' in osp.basename(p)})


def conv(cin, cout, k, groups=1, bias=True):
    return cin // groups * cout * k * k + (cout if bias else 0)


def conv_bn(cin, cout, k, groups=1):
    return conv(cin, cout, k, groups, bias=False) + 2 * cout


def replknet_params(kernels, layers, channels, small_kernel, ffn_ratio=4):
    """RepLKNet's parameters counted from the paper's block diagram."""
    c1 = channels[0]
    count = (conv_bn(3, c1, 3) + conv_bn(c1, c1, 3, c1) + conv_bn(c1, c1, 1)
             + conv_bn(c1, c1, 3, c1))  # stem
    for i, (k, depth, c) in enumerate(zip(kernels, layers, channels)):
        replk_block = (2 * c + conv_bn(c, c, 1) + conv_bn(c, c, k, c)
                       + conv_bn(c, c, small_kernel, c) + conv_bn(c, c, 1))
        ffn = (2 * c + conv_bn(c, ffn_ratio * c, 1)
               + conv_bn(ffn_ratio * c, c, 1))
        count += depth * (replk_block + ffn)
        if i + 1 < len(channels):  # transition
            c2 = channels[i + 1]
            count += conv_bn(c, c2, 1) + conv_bn(c2, c2, 3, c2)
    return count


def mask_rcnn_head_params(in_channels, classes=80, width=256, fc=1024,
                          anchors=3):
    """mmdet's Mask R-CNN FPN, RPN, Shared2FC bbox head and FCN mask
    head, counted layer by layer."""
    fpn = sum(conv(c, width, 1) for c in in_channels) + 4 * conv(width,
                                                                 width, 3)
    rpn = (conv(width, width, 3) + conv(width, anchors, 1)
           + conv(width, 4 * anchors, 1))
    bbox = (conv(width * 7 * 7, fc, 1) + conv(fc, fc, 1)
            + conv(fc, classes + 1, 1) + conv(fc, 4 * classes, 1))
    mask = (4 * conv(width, width, 3) + conv(width, width, 2)
            + conv(width, classes, 1))
    return fpn + rpn + bbox + mask


MASK_RCNN_31B = (replknet_params([31, 29, 27, 13], [2, 2, 18, 2],
                                 [128, 256, 512, 1024], 5)
                 + mask_rcnn_head_params([128, 256, 512, 1024]))


def expected_params(name):
    """(millions, relative tolerance): the paper's count, or (Mask R-CNN,
    which neither paper reports) the count from the layer shapes."""
    if name in PAPER_PARAMS:  # UniRepLKNet's: of the re-parameterized form
        return PAPER_PARAMS[name], 0.01 if 'unireplknet' in name else 0.02
    if name.startswith('mask-rcnn_replknet31b_'):
        return MASK_RCNN_31B / 1e6, 0
    arch = re.match(r'mask-rcnn_unireplknet-([a-z]+)_fpn', name)
    assert arch, f'no count for {name}'
    arch = official_arch(arch.group(1).upper())
    return (official_param_count(arch) +
            mask_rcnn_head_params(arch['dims'])) / 1e6, 0


@pytest.mark.parametrize('path', DET_CONFIGS, ids=config_id)
def test_paper_config_builds_with_the_expected_parameter_count(path):
    cfg = load(path)
    assert cfg.default_scope == 'mmdet'
    backbone = cfg.model.backbone
    assert backbone.type == ('UniRepLKNet' if 'unireplknet' in path
                             else 'RepLKNet')
    assert backbone.with_cp and backbone.norm_cfg.type == 'SyncBN'
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    if backbone.type == 'RepLKNet':
        assert cfg.optim_wrapper.paramwise_cfg.norm_decay_mult == 0
    else:  # the official rule: no decay on 1-D parameters and biases
        assert cfg.optim_wrapper.constructor == (
            'UniRepLKNetLayerDecayOptimizerConstructor')
    name = osp.basename(path)
    expected, tolerance = expected_params(name)
    count = deploy_params if name in PAPER_PARAMS and 'unireplknet' in name \
        else meta_params
    params = count(cfg) / 1e6
    assert abs(params - expected) <= tolerance * expected, (params, expected)


def toy_batch(toy_coco, num=2):
    """``num`` toy training images with boxes and masks, mmdet-packed."""
    from mmdet.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    init_default_scope('mmdet')
    dataset = DATASETS.build(dict(
        type='CocoDataset', data_root=toy_coco,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        metainfo=dict(classes=('square', 'circle', 'triangle')),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', with_bbox=True,
                       with_mask=True),
                  dict(type='Resize', scale=(128, 128), keep_ratio=True),
                  dict(type='PackDetInputs')]))
    return pseudo_collate([dataset[i] for i in range(num)])


def shrunk_model(path, allow_all_anchors=False, narrow=False):
    cfg = load(path)
    cfg.model.neck.in_channels = shrink_backbone(cfg)
    if narrow:
        narrow_detector_heads(cfg)
    if allow_all_anchors and 'rpn' in cfg.model.get('train_cfg', {}):
        # The paper's cascade recipe keeps mmdet's allowed_border=0, which
        # refuses an image without one anchor fully inside (mmdet raises a
        # ValueError naming the option); COCO images are never that small.
        cfg.model.train_cfg.rpn.allowed_border = -1
    model = build(cfg)
    return cfg, model


def train_step(cfg, model, data):
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    train_step_updating_every_parameter(model, optim_wrapper, data)


@pytest.mark.parametrize('path', STEP_CONFIGS, ids=config_id)
def test_train_step_and_prediction_with_a_shrunken_backbone(path, toy_coco):
    torch.manual_seed(0)
    # Full-width heads for one config per detector and family; narrow ones
    # (same parts) for the others, which differ from those in the backbone
    # and optimizer only.
    cfg, model = shrunk_model(path, narrow=path not in EDGE_CONFIGS)
    data = toy_batch(toy_coco)
    train_step(cfg, model, data)
    model.eval()
    with torch.no_grad():
        results = model.test_step(data)
    assert len(results) == 2
    pred = results[0].pred_instances
    assert pred.bboxes.shape[1] == 4 and len(pred.scores) == len(pred.labels)
    if 'mask' in path:
        assert pred.masks.shape[1:] == data['inputs'][0].shape[1:]


@pytest.mark.parametrize('path', EDGE_CONFIGS, ids=config_id)
def test_empty_annotations_and_images_smaller_than_the_stride(path, toy_coco):
    from mmengine.structures import InstanceData
    torch.manual_seed(0)
    cfg, model = shrunk_model(path, allow_all_anchors=True)
    data = toy_batch(toy_coco)
    # First image: no objects at all.
    empty = data['data_samples'][0]
    empty.gt_instances = empty.gt_instances[torch.zeros(
        len(empty.gt_instances), dtype=torch.bool)]
    # Second image: 20x24 pixels, smaller than the coarsest stride (128).
    small = data['data_samples'][1]
    data['inputs'][1] = data['inputs'][1][:, :20, :24].contiguous()
    small.set_metainfo(dict(img_shape=(20, 24), ori_shape=(20, 24)))
    gt = small.gt_instances
    small.gt_instances = InstanceData(
        bboxes=type(gt.bboxes)(torch.tensor([[2., 3., 18., 17.]])),
        labels=gt.labels[:1],
        masks=gt.masks[:1].crop(torch.tensor([0, 0, 24, 20]).numpy()))
    train_step(cfg, model, data)


def test_the_official_ema_averages_the_weights_as_mmdet_2x(toy_coco):
    """The S IN-22K, B, L and XL configs' EMAHook (the official
    ExpMomentumEMAHook): after one step, every averaged tensor (buffers
    included) is lerp(before, after, w), w = (1 - m) * exp(-(1 + n) / 2000)
    + m with m = 1e-4 at update n, as mmdet 2.x's hook computes it."""
    import math
    import types

    from mmengine.registry import HOOKS
    path = [p for p in DET_CONFIGS
            if osp.basename(p) == UNI_CASCADE.format('s-in22k')][0]
    torch.manual_seed(0)
    cfg, model = shrunk_model(path, narrow=True)
    runner = types.SimpleNamespace(model=model, iter=0, epoch=0)
    hooks = []
    for _ in range(2):
        hook_cfg = dict(cfg.custom_hooks[0])
        hook_cfg.pop('priority')  # taken by Runner.register_hook
        hooks.append(HOOKS.build(hook_cfg))
        hooks[-1].before_run(runner)
        hooks[-1].after_train_iter(runner, 0)  # the first update copies
    before = {k: v.clone() for k, v in model.state_dict().items()
              if v.is_floating_point()}
    train_step(cfg, model, toy_batch(toy_coco))
    after = model.state_dict()
    moved = [k for k in before if not torch.equal(before[k], after[k])]
    assert any('running_mean' in k for k in moved)
    early, late = hooks
    late.ema_model.steps.fill_(10**5)  # exp(-50): w is the momentum itself
    for hook in hooks:
        hook.after_train_iter(runner, 1)
    # Update 1: w = (1 - m) * exp(-2 / 2000) + m, every moved tensor.
    weight = (1 - 1e-4) * math.exp(-2 / 2000) + 1e-4
    averaged = early.ema_model.module.state_dict()
    for key in moved:
        torch.testing.assert_close(
            averaged[key], torch.lerp(before[key], after[key], weight),
            msg=key)
    # Late: w = m = 1e-4, read off the BN statistics (which move most).
    averaged = late.ema_model.module.state_dict()
    for key in (k for k in moved if 'running_mean' in k):
        step = after[key] - before[key]
        w = ((averaged[key] - before[key]) * step).sum() / (step**2).sum()
        assert abs(w / 1e-4 - 1) < 0.05, (key, w)
