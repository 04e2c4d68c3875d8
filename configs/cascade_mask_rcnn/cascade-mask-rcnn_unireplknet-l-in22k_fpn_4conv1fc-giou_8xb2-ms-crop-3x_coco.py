# UniRepLKNet-L (ImageNet-22K) + Cascade Mask R-CNN, COCO, 3x: the B recipe
# with L, drop_path 0.7 and lr decay 0.7, as the official config
# (casc_mask_rcnn_unireplknet_l_in22k_fpn_3x_coco.py). Paper: 55.8 box AP,
# 48.4 mask AP.
_base_ = ['./cascade-mask-rcnn_unireplknet-b-in22k_fpn_4conv1fc-giou_8xb2-ms-crop-3x_coco.py']  # noqa
dims = [192, 384, 768, 1536]
model = dict(
    backbone=dict(
        arch='L', drop_path_rate=0.7,
        init_cfg=dict(checkpoint='checkpoints/'
                      'unireplknet_l_in22k_to_in1k_384_acc87.88.pth')),
    neck=dict(in_channels=dims))
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.7))
