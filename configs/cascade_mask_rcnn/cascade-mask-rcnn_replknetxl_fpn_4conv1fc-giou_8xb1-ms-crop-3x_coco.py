# RepLKNet-XL (MegData73M) + Cascade Mask R-CNN, COCO, 3x.
# Paper: 55.5 box AP, 48.0 mask AP. XL was pretrained with mean = std = 127.5
# (RGB) and puts a BN on every output feature map.
_base_ = [
    './cascade-mask-rcnn_replknet31b_fpn_4conv1fc-giou_8xb1-ms-crop-3x_coco.py'  # noqa
]
model = dict(
    data_preprocessor=dict(mean=[127.5, 127.5, 127.5],
                           std=[127.5, 127.5, 127.5]),
    backbone=dict(
        arch='XL',
        drop_path_rate=0.5,
        norm_intermediate_features=True,
        init_cfg=dict(
            checkpoint='checkpoints/RepLKNet-XL_MegData73M_pretrain.pth')),
    neck=dict(in_channels=[256, 512, 1024, 2048]))
