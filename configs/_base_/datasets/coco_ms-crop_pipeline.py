# The DETR-style multi-scale crop augmentation of the ConvNeXt / Swin /
# RepLKNet / UniRepLKNet 3x COCO recipes (mmdet's ConvNeXt 3x configs), as a
# variable that no mmdet base sets, so that a config can take it next to its
# own base: train_dataloader = dict(dataset=dict(
#     pipeline=_base_.ms_crop_train_pipeline))
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
