# RepLKNet-31L (ImageNet-22K) + UperNet, ADE20K 640x640. Paper: 52.4 mIoU
# (ss), 52.7 (ms+flip). The official run: 1 image per GPU, 80k iterations,
# warm-up 800 (64 GPUs: 64 images per step, 5.12M in all); here 8 GPUs x 1
# image x 8 accumulated iterations per step, 640k iterations, warm-up 6400,
# evaluation and checkpoints every 16k (2000 steps). Data and test as the
# 31B 640x640 config.
_base_ = ['./upernet_replknet31b-in22k_8xb2-accum8-320k_ade20k-640x640.py']
pretrained_weights = 'checkpoints/RepLKNet-31L_ImageNet-22K-to-1K_384.pth'
model = dict(
    backbone=dict(
        arch='31L',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint=pretrained_weights)),
    decode_head=dict(in_channels=[192, 384, 768, 1536]),
    auxiliary_head=dict(in_channels=768))
train_dataloader = dict(batch_size=1)

max_iters = 640000
warmup_iters = 6400
interval = 16000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=interval)
default_hooks = dict(checkpoint=dict(interval=interval))
