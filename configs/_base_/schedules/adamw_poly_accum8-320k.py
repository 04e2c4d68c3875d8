# The official RepLKNet segmentation schedule of the ADE20K runs, on 8 GPUs:
# 128 images per optimizer step, 40k steps (5.12M images), linear warm-up
# over the first 1% from 1e-6, then poly (power 1.0) to 0. The official runs
# had 64 GPUs x 2 images; here 8 GPUs x 2 images accumulate 8 iterations per
# step, so every count is in iterations: 320k, warm-up 3200, evaluation and
# checkpoint every 16k (every 2000 steps, as the official runs).
# AdamW 2e-4, betas (0.9, 0.999), weight decay 0.05, none on norm layers.
_base_ = ['mmseg::_base_/schedules/schedule_160k.py']

accumulative_counts = 8
max_iters = 320000
warmup_iters = 3200
interval = 16000
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=0.05),
    # plain-dict parameter groups: torch.compile (compile=True) traces them
    constructor='PlainGroupsOptimWrapperConstructor',
    paramwise_cfg=dict(norm_decay_mult=0.),
    accumulative_counts=accumulative_counts)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=interval)
default_hooks = dict(checkpoint=dict(interval=interval))
