# The official 640x640 ADE20K recipe: images keep the (2048, 512) scale of
# the 512x512 recipe and only the training crop grows to 640; testing stays
# at (2048, 512). (mmseg's ade20k_640x640.py resizes to (2560, 640) instead.)
_base_ = ['./ade20k.py']
crop_size = (640, 640)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
