# UniRepLKNet-XL (ImageNet-22K) + Cascade Mask R-CNN, COCO, 3x: the L
# recipe with XL (same drop_path 0.7 and lr decay 0.7), as the official
# config (casc_mask_rcnn_unireplknet_xl_in22k_fpn_3x_coco.py). Paper: 56.4
# box AP, 49.0 mask AP.
_base_ = ['./cascade-mask-rcnn_unireplknet-l-in22k_fpn_4conv1fc-giou_8xb2-ms-crop-3x_coco.py']  # noqa
dims = [256, 512, 1024, 2048]
model = dict(
    backbone=dict(
        arch='XL',
        init_cfg=dict(checkpoint='checkpoints/'
                      'unireplknet_xl_in22k_to_in1k_384_acc87.96.pth')),
    neck=dict(in_channels=dims))
