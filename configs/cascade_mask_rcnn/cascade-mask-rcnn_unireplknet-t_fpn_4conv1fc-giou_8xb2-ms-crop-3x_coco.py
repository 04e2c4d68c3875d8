# UniRepLKNet-T (ImageNet-1K) + Cascade Mask R-CNN, COCO, 3x (36 epochs), 8
# GPUs x 2 images, as the official config (casc_mask_rcnn_unireplknet_t_
# in1k_fpn_3x_coco.py, mmdet 2.28). Paper: 51.7 box AP, 44.9 mask AP.
# Official recipe = mmdet's ConvNeXt Cascade Mask R-CNN 3x (4conv1fc bbox
# heads with SyncBN, GIoU loss weight 10, reg_decoded_bbox, DETR-style
# multi-scale crop augmentation, steps 27 and 33) with warm-up 500
# iterations, AdamW 1e-4 / wd 0.05 with UniRepLKNet's layer-wise lr decay
# (0.8 over 12 layers), drop_path 0.3, fp32.
_base_ = [
    'mmdet::convnext/cascade-mask-rcnn_convnext-t-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py',  # noqa
    '../_base_/models/unireplknet.py'
]
custom_imports = dict(imports=['mmrep'], allow_failed_imports=False)
dims = [80, 160, 320, 640]
model = dict(
    backbone=dict(
        _base_.unireplknet, _delete_=True, arch='T', drop_path_rate=0.3,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/unireplknet_t_in1k_224_acc83.21.pth')),
    neck=dict(in_channels=dims))
# The official schedule_3x warm-up (500 iterations from 0.001).
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', begin=0, end=36, by_epoch=True,
         milestones=[27, 33], gamma=0.1),
]
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='UniRepLKNetLayerDecayOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=0.8, decay_type='layer_wise',
                       num_layers=12))
# As the official checkpoint_config / evaluation: the best mAP is kept.
default_hooks = dict(checkpoint=dict(max_keep_ckpts=5, save_best='auto'))
