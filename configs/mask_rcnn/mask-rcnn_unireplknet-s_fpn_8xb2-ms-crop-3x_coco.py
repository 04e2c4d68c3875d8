# UniRepLKNet-S (ImageNet-1K) + Mask R-CNN, COCO, 3x (36 epochs) with the
# DETR-style multi-scale crop augmentation, 8 GPUs x 2 images. No official
# number exists: the 1x config's backbone and optimizer on mmdet's ConvNeXt
# Mask R-CNN 3x schedule (augmentation, warm-up 1000, steps 27 and 33).
_base_ = ['./mask-rcnn_unireplknet-s_fpn_8xb2-1x_coco.py',
          '../_base_/schedules/mask-rcnn_ms-crop-3x_coco.py']
train_dataloader = dict(dataset=dict(pipeline=_base_.ms_crop_train_pipeline))
train_cfg = dict(max_epochs=_base_.epochs_3x)
param_scheduler = _base_.param_scheduler_3x
