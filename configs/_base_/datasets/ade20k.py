# mmseg's ADE20K data (train: resize to (2048, 512) x [0.5, 2.0], 512 crops;
# test at (2048, 512)) with the official multi-scale + flip test: mmseg 0.x's
# --aug-test resized to the ratios 0.5..1.75 of the test scale itself, where
# mmseg 1.x's base multiplies each image's original size.
_base_ = ['mmseg::_base_/datasets/ade20k.py']
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_scales = [(int(2048 * r), int(512 * r)) for r in img_ratios]
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=s, keep_ratio=True)
             for s in tta_scales],
            [dict(type='RandomFlip', prob=0., direction='horizontal'),
             dict(type='RandomFlip', prob=1., direction='horizontal')],
            [dict(type='LoadAnnotations')],
            [dict(type='PackSegInputs')],
        ])
]
