# UniRepLKNet-S (ImageNet-22K, fine-tuned on 1K at 384) + Cascade Mask
# R-CNN, COCO, 3x: the S recipe with the IN-22K weights and an exponential
# moving average of the weights (the official ExpMomentumEMAHook, momentum
# 1e-4, buffers included; mmdet 3.x's ExpMomentumEMA, which validation and
# the checkpoints use), as the official config (casc_mask_rcnn_unireplknet_
# s_in22k_fpn_3x_coco.py). Paper: 54.3 box AP, 47.1 mask AP.
_base_ = ['./cascade-mask-rcnn_unireplknet-s_fpn_4conv1fc-giou_8xb2-ms-crop-3x_coco.py']  # noqa
model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/'
                      'unireplknet_s_in22k_to_in1k_384_acc86.44.pth')))
custom_hooks = [
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0001,
         update_buffers=True, priority=49)
]
