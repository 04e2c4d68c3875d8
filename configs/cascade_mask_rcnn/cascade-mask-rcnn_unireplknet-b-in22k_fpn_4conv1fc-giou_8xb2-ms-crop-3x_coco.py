# UniRepLKNet-B (ImageNet-22K) + Cascade Mask R-CNN, COCO, 3x: the S IN-22K
# recipe (EMA included) with B and drop_path 0.6, as the official config
# (casc_mask_rcnn_unireplknet_b_in22k_fpn_3x_coco.py). Paper: 54.8 box AP,
# 47.4 mask AP.
_base_ = ['./cascade-mask-rcnn_unireplknet-s-in22k_fpn_4conv1fc-giou_8xb2-ms-crop-3x_coco.py']  # noqa
dims = [128, 256, 512, 1024]
model = dict(
    backbone=dict(
        arch='B', drop_path_rate=0.6,
        init_cfg=dict(checkpoint='checkpoints/'
                      'unireplknet_b_in22k_to_in1k_384_acc87.40.pth')),
    neck=dict(in_channels=dims))
