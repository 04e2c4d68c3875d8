# UniRepLKNet-S (ImageNet-1K) + UperNet, ADE20K 512x512, 8 GPUs x 2 images,
# 160k iterations, as the official config
# (upernet_unireplknet_s_512_160k_ade20k.py). Paper: 50.5 mIoU (ss), 51.0
# (ms+flip, --tta). drop_path 0.3, gradient checkpointing, lr decay 0.9
# over 12 layers.
_base_ = [
    '../_base_/models/upernet_unireplknet.py',
    '../_base_/datasets/ade20k_resize32.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/unireplknet_adamw-layer-decay_poly-160k.py',
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
train_dataloader = dict(batch_size=2)
