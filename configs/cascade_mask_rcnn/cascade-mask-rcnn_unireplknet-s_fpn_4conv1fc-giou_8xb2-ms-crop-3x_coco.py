# UniRepLKNet-S (ImageNet-1K) + Cascade Mask R-CNN, COCO, 3x: the T recipe
# with S and drop_path 0.5, as the official config (casc_mask_rcnn_
# unireplknet_s_in1k_fpn_3x_coco.py). Paper: 53.0 box AP, 45.9 mask AP.
_base_ = ['./cascade-mask-rcnn_unireplknet-t_fpn_4conv1fc-giou_8xb2-ms-crop-3x_coco.py']  # noqa
dims = [96, 192, 384, 768]
model = dict(
    backbone=dict(
        arch='S', drop_path_rate=0.5,
        init_cfg=dict(
            checkpoint='checkpoints/unireplknet_s_in1k_224_acc83.91.pth')),
    neck=dict(in_channels=dims))
