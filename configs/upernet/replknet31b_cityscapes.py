# RepLKNet-31B (ImageNet-1K) + UperNet, Cityscapes 769x769, 80k iterations,
# 8 GPUs x 2 images. Paper: 83.1 mIoU (ss), 83.5 (ms+flip).
_base_ = [
    '../_base_/models/upernet_replknet31b.py',
    'mmseg::_base_/datasets/cityscapes_769x769.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw_poly_160k.py',
]
crop_size = (769, 769)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=19, align_corners=True),
    auxiliary_head=dict(num_classes=19, align_corners=True),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(513, 513)))
train_dataloader = dict(batch_size=2)
# 80k schedule: warm-up then poly decay to 0 at 80k.
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=1500,
         end=80000),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=8000))
