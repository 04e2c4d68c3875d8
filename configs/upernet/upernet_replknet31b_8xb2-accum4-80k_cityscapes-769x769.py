# RepLKNet-31B (ImageNet-1K) + UperNet, Cityscapes 769x769. Paper: 83.1 mIoU
# (ss), 83.5 (ms+flip). The official run: 32 GPUs x 2 images, 20k
# iterations, warm-up 400 (64 images per step, 1.28M in all); here 8 GPUs x
# 2 images x 4 accumulated iterations per step, 80k iterations, warm-up
# 1600, evaluation and checkpoints every 8000 (2000 steps). Whole-image test
# at (2049, 1025), as the official config.
_base_ = [
    '../_base_/models/upernet_replknet31b.py',
    '../_base_/datasets/cityscapes_769x769.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw_poly_accum8-320k.py',
]
crop_size = (769, 769)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=19, align_corners=True),
    auxiliary_head=dict(num_classes=19, align_corners=True),
    test_cfg=dict(mode='whole'))
train_dataloader = dict(batch_size=2)

accumulative_counts = 4
max_iters = 80000
warmup_iters = 1600
interval = 8000
optim_wrapper = dict(accumulative_counts=accumulative_counts)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=interval)
default_hooks = dict(checkpoint=dict(interval=interval))
