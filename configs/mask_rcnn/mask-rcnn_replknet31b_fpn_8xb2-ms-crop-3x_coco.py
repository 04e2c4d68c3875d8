# RepLKNet-31B (ImageNet-1K) + Mask R-CNN, COCO, 3x (36 epochs) with the
# DETR-style multi-scale crop augmentation: mmdet 3.x's ConvNeXt Mask R-CNN
# 3x recipe (augmentation, warm-up, steps 27 and 33) with RepLKNet's AdamW
# settings. Add --amp for mixed precision, as the mmdet recipe does.
_base_ = ['./mask-rcnn_replknet31b_fpn_8xb2-1x_coco.py',
          '../_base_/schedules/mask-rcnn_ms-crop-3x_coco.py']
train_dataloader = dict(dataset=dict(pipeline=_base_.ms_crop_train_pipeline))
train_cfg = dict(max_epochs=_base_.epochs_3x)
param_scheduler = _base_.param_scheduler_3x
