# RepLKNet-31B (ImageNet-1K) + Cascade Mask R-CNN, COCO, 3x (36 epochs),
# 8 GPUs x 1 image. Paper: 52.2 box AP, 45.2 mask AP. Official recipe =
# mmdet's ConvNeXt Cascade Mask R-CNN 3x (4conv1fc bbox heads with SyncBN,
# GIoU loss weight 10, reg_decoded_bbox, DETR-style multi-scale crop
# augmentation, steps 27 and 33) with drop_path 0.6, AdamW 4e-4 / wd 0.05 /
# no decay on norms, and 1 image per GPU (the official config does not state
# its GPU count; 8 is mmdet's convention, as for FCOS).
_base_ = [
    'mmdet::convnext/cascade-mask-rcnn_convnext-t-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py',  # noqa
    '../_base_/models/replknet31b.py'
]
custom_imports = dict(imports=['mmrep'], allow_failed_imports=False)
model = dict(
    backbone=dict(_base_.replknet31b, _delete_=True, drop_path_rate=0.6),
    neck=dict(in_channels=_base_.replknet31b_channels))
train_dataloader = dict(batch_size=1)
# mmdet's --auto-scale-lr scales lr 4e-4 from these 8 images per step.
auto_scale_lr = dict(base_batch_size=8)
# mmdet 2.x's schedule_1x warm-up, as the official config inherits it.
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', begin=0, end=36, by_epoch=True,
         milestones=[27, 33], gamma=0.1),
]
# Plain AdamW (mmdet's layer-decay constructor only knows ConvNeXt); add
# --amp for mixed precision.
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=4e-4, betas=(0.9, 0.999), weight_decay=0.05),
    # plain-dict parameter groups: torch.compile (compile=True) traces them
    constructor='PlainGroupsOptimWrapperConstructor',
    paramwise_cfg=dict(norm_decay_mult=0.))
