# RepLKNet-31B (ImageNet-22K) + UperNet, ADE20K 640x640, 160k iterations.
# Paper: 51.5 mIoU (ss), 52.3 (ms+flip). Slide test 640 / stride 426.
_base_ = [
    '../_base_/models/upernet_replknet31b.py',
    'mmseg::_base_/datasets/ade20k_640x640.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw_poly_160k.py',
]
pretrained_weights = 'checkpoints/RepLKNet-31B_ImageNet-22K-to-1K_384.pth'
crop_size = (640, 640)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint=pretrained_weights)),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(426, 426)))
train_dataloader = dict(batch_size=2)
