# UniRepLKNet-S (ImageNet-1K) + Mask R-CNN, COCO, 1x, 8 GPUs x 2 images. No
# official number exists: the T recipe with the backbone settings of the
# official S Cascade config (drop_path 0.5).
_base_ = ['./mask-rcnn_unireplknet-t_fpn_8xb2-1x_coco.py']
dims = [96, 192, 384, 768]
model = dict(
    backbone=dict(
        arch='S', drop_path_rate=0.5,
        init_cfg=dict(
            checkpoint='checkpoints/unireplknet_s_in1k_224_acc83.91.pth')),
    neck=dict(in_channels=dims))
