# ADE20K 512x512 as the official UniRepLKNet release tests it: each image
# resized to (2048, 512), then to a multiple of 32 (mmseg's
# ResizeToMultiple, in the official test pipeline), whole image. Training
# as mmseg's ade20k.py. --tta: flip and the ratios 0.5-1.75 of the test
# scale, each resized to a multiple of 32 (mmseg 0.x's --aug-test).
_base_ = ['./ade20k.py']
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=s, keep_ratio=True)
             for s in _base_.tta_scales],
            [dict(type='ResizeToMultiple', size_divisor=32)],
            [dict(type='RandomFlip', prob=0., direction='horizontal'),
             dict(type='RandomFlip', prob=1., direction='horizontal')],
            [dict(type='LoadAnnotations')],
            [dict(type='PackSegInputs')],
        ])
]
