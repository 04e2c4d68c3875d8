# RepLKNet-31B (ImageNet-1K) + FCOS, COCO, 2x (24 epochs), 8 GPUs x 2 images.
# Paper: 47.0 box AP. Official recipe: multi-scale training (1333x640,
# 1333x800), AdamW 2e-4 / wd 0.05 / no decay on norms, gradient clip 35,
# constant warm-up 500 iterations at 1/3, steps at epochs 16 and 22 (all but
# the optimizer and the backbone come from mmdet's FCOS ms-2x config).
_base_ = [
    'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco.py',
    '../_base_/models/replknet31b.py'
]
custom_imports = dict(imports=['mmrep'], allow_failed_imports=False)
model = dict(
    # RepLKNet was pretrained on RGB images with ImageNet statistics, not
    # with FCOS's caffe-style BGR defaults.
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(_base_.replknet31b, _delete_=True),
    neck=dict(in_channels=_base_.replknet31b_channels))
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='AdamW', lr=2e-4, betas=(0.9, 0.999),
        weight_decay=0.05),
    # plain-dict parameter groups: torch.compile (compile=True) traces them
    constructor='PlainGroupsOptimWrapperConstructor',
    paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.),
    clip_grad=dict(max_norm=35, norm_type=2))
