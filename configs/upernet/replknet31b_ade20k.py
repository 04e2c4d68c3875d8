# RepLKNet-31B (ImageNet-1K) + UperNet, ADE20K 512x512, 160k iterations,
# 8 GPUs x 2 images. Paper: 49.9 mIoU (ss), 50.6 (ms+flip, use --tta).
_base_ = [
    '../_base_/models/upernet_replknet31b.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw_poly_160k.py',
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
train_dataloader = dict(batch_size=2)
