# Tiny UniRepLKNet + Mask R-CNN on the embedded toy COCO-format data: the
# RepLKNet toy (same data, neck, heads and schedule) with the backbone
# replaced; used by the tests.
_base_ = ['./replknet-tiny_toy-coco.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='UniRepLKNet',
        arch=dict(depths=[1, 1, 2, 1], dims=[16, 32, 64, 128],
                  kernel_sizes=[[3], [13], [13, 3], [7]]),
        drop_path_rate=0.1,
        norm_cfg=dict(type='BN', requires_grad=True)))
