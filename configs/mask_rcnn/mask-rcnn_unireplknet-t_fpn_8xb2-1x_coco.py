# UniRepLKNet-T (ImageNet-1K) + Mask R-CNN, COCO, 1x (12 epochs), 8 GPUs x 2
# images. No official UniRepLKNet number exists for this model (the release
# has Cascade Mask R-CNN only); it is here to compare with the Swin and
# ConvNeXt Mask R-CNN rows. Recipe: the backbone and optimizer of the
# official T Cascade config (drop_path 0.3, AdamW 1e-4, wd 0.05, layer-wise
# lr decay 0.8 over 12 layers) on mmdet's Swin Mask R-CNN 1x schedule
# (linear warm-up 1000 iterations from 0.001, steps 8 and 11).
_base_ = [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../_base_/models/unireplknet.py'
]
custom_imports = dict(imports=['mmrep'], allow_failed_imports=False)
dims = [80, 160, 320, 640]
# mmdet's Mask R-CNN base already normalizes RGB with ImageNet statistics,
# as UniRepLKNet was pretrained.
model = dict(
    backbone=dict(
        _base_.unireplknet, _delete_=True, arch='T', drop_path_rate=0.3,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/unireplknet_t_in1k_224_acc83.21.pth')),
    neck=dict(in_channels=dims))
max_epochs = 12
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=1000),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[8, 11], gamma=0.1),
]
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='UniRepLKNetLayerDecayOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=0.8, decay_type='layer_wise',
                       num_layers=12))
