# ADE20K 640x640 as the official UniRepLKNet release trains and tests it:
# mmseg's ade20k_640x640.py (images resized to (2560, 640) x [0.5, 2.0],
# 640 crops; test at (2560, 640)), each test image then resized to a
# multiple of 32, whole image. --tta: flip and the ratios 0.5-1.75 of the
# test scale, each resized to a multiple of 32 (mmseg 0.x's --aug-test).
_base_ = ['mmseg::_base_/datasets/ade20k_640x640.py']
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2560, 640), keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=(int(2560 * r), int(640 * r)),
                  keep_ratio=True) for r in img_ratios],
            [dict(type='ResizeToMultiple', size_divisor=32)],
            [dict(type='RandomFlip', prob=0., direction='horizontal'),
             dict(type='RandomFlip', prob=1., direction='horizontal')],
            [dict(type='LoadAnnotations')],
            [dict(type='PackSegInputs')],
        ])
]
