# mmseg's Cityscapes 769x769 data (train: resize to (2049, 1025) x [0.5, 2.0],
# 769 crops; test at (2049, 1025)) with the official multi-scale + flip test:
# ratios 0.5..1.75 of the test scale, as mmseg 0.x's --aug-test did.
_base_ = ['mmseg::_base_/datasets/cityscapes_769x769.py']
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_scales = [(int(2049 * r), int(1025 * r)) for r in img_ratios]
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
