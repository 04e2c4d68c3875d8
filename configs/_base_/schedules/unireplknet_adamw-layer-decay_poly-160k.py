# The official UniRepLKNet ADE20K schedule (UniRepLKNet repository,
# segmentation/configs/ade20k): 8 GPUs x 2 images, 160k iterations; AdamW
# 1e-4, betas (0.9, 0.999), weight decay 0.05 (none on 1-D parameters and
# biases) with the official layer-wise lr decay; linear warm-up over 1500
# iterations from 1e-6, then poly (power 1.0) to 0; evaluation and
# checkpoints every 4000 iterations, the best mIoU kept. decay_rate and
# num_layers differ per model.
_base_ = ['mmseg::_base_/schedules/schedule_160k.py']

max_iters = 160000
warmup_iters = 1500
interval = 4000
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='UniRepLKNetLayerDecayOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=0.9, decay_type='layer_wise',
                       num_layers=12))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=interval)
default_hooks = dict(
    checkpoint=dict(interval=interval, max_keep_ckpts=20, save_best='mIoU'))
