# mmdet's ConvNeXt Mask R-CNN 3x recipe (the DETR-style multi-scale crop
# augmentation, 36 epochs, linear warm-up 1000 iterations, steps 27 and 33)
# as variables that no mmdet base sets, so that a Mask R-CNN 1x config's
# 3x child can take them next to its own base:
#   train_dataloader = dict(dataset=dict(
#       pipeline=_base_.ms_crop_train_pipeline))
#   train_cfg = dict(max_epochs=_base_.epochs_3x)
#   param_scheduler = _base_.param_scheduler_3x
multi_scale = [(s, 1333) for s in range(480, 801, 32)]
ms_crop_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomChoice',
         transforms=[
             [dict(type='RandomChoiceResize', scales=multi_scale,
                   keep_ratio=True)],
             [dict(type='RandomChoiceResize',
                   scales=[(400, 1333), (500, 1333), (600, 1333)],
                   keep_ratio=True),
              dict(type='RandomCrop', crop_type='absolute_range',
                   crop_size=(384, 600), allow_negative_crop=True),
              dict(type='RandomChoiceResize', scales=multi_scale,
                   keep_ratio=True)],
         ]),
    dict(type='PackDetInputs'),
]
epochs_3x = 36
param_scheduler_3x = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=1000),
    dict(type='MultiStepLR', begin=0, end=epochs_3x, by_epoch=True,
         milestones=[27, 33], gamma=0.1),
]
