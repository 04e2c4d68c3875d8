# UniRepLKNet-S (ImageNet-1K) + Mask R-CNN, COCO, 3x (36 epochs) with the
# DETR-style multi-scale crop augmentation, 8 GPUs x 2 images. No official
# number exists: the 1x config's backbone and optimizer on mmdet's ConvNeXt
# Mask R-CNN 3x schedule (augmentation, warm-up 1000, steps 27 and 33).
_base_ = ['./mask-rcnn_unireplknet-s_fpn_8xb2-1x_coco.py',
          '../_base_/datasets/coco_ms-crop_pipeline.py']
train_dataloader = dict(dataset=dict(pipeline=_base_.ms_crop_train_pipeline))
max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=1000),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[27, 33], gamma=0.1),
]
