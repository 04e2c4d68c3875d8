# UniRepLKNet-S (ImageNet-22K) + UperNet, ADE20K 640x640, 8 GPUs x 2 images,
# 160k iterations, as the official config
# (upernet_unireplknet_s_in22k_640_160k_ade20k.py). Paper: 52.3 mIoU (ss),
# 52.7 (ms+flip, --tta). 640 crops from images resized to (2560, 640) x
# [0.5, 2.0]; whole-image test at (2560, 640).
_base_ = [
    '../_base_/models/upernet_unireplknet.py',
    '../_base_/datasets/ade20k-640_resize32.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/unireplknet_adamw-layer-decay_poly-160k.py',
]
crop_size = (640, 640)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/'
                      'unireplknet_s_in22k_to_in1k_384_acc86.44.pth')))
train_dataloader = dict(batch_size=2)
