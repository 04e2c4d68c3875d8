# RepLKNet-31B (ImageNet-1K) + Mask R-CNN, COCO, 1x (12 epochs), 8 GPUs x 2
# images. No official RepLKNet number exists for this model: the recipe is
# mmdet 3.x's Swin Mask R-CNN 1x (linear warm-up 1000 iterations, steps 8 and
# 11) with RepLKNet's AdamW settings (2e-4, wd 0.05, no decay on norms).
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../_base_/models/replknet31b.py'
]
custom_imports = dict(imports=['mmrep'], allow_failed_imports=False)
# mmdet's Mask R-CNN base already normalizes RGB with ImageNet statistics,
# as RepLKNet was pretrained.
model = dict(
    backbone=dict(_base_.replknet31b, _delete_=True),
    neck=dict(in_channels=_base_.replknet31b_channels))
max_epochs = 12
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=1000),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[8, 11], gamma=0.1),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        _delete_=True, type='AdamW', lr=2e-4, betas=(0.9, 0.999),
        weight_decay=0.05),
    # plain-dict parameter groups: torch.compile (compile=True) traces them
    constructor='PlainGroupsOptimWrapperConstructor',
    paramwise_cfg=dict(norm_decay_mult=0.))
