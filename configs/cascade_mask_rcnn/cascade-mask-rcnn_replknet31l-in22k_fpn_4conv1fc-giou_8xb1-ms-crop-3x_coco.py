# RepLKNet-31L (ImageNet-22K) + Cascade Mask R-CNN, COCO, 3x.
# Paper: 53.9 box AP, 46.5 mask AP.
_base_ = [
    './cascade-mask-rcnn_replknet31b_fpn_4conv1fc-giou_8xb1-ms-crop-3x_coco.py'  # noqa
]
model = dict(
    backbone=dict(
        arch='31L',
        drop_path_rate=0.7,
        init_cfg=dict(
            checkpoint='checkpoints/RepLKNet-31L_ImageNet-22K-to-1K_384.pth')),
    neck=dict(in_channels=[192, 384, 768, 1536]))
