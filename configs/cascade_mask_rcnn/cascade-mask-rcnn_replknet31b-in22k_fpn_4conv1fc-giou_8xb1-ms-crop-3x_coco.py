# RepLKNet-31B (ImageNet-22K) + Cascade Mask R-CNN, COCO, 3x.
# Paper: 53.0 box AP, 46.0 mask AP.
_base_ = [
    './cascade-mask-rcnn_replknet31b_fpn_4conv1fc-giou_8xb1-ms-crop-3x_coco.py'  # noqa
]
model = dict(
    backbone=dict(
        drop_path_rate=0.4,
        init_cfg=dict(
            checkpoint='checkpoints/RepLKNet-31B_ImageNet-22K-to-1K_384.pth')))
