# RepLKNet-XL (MegData73M) + UperNet, ADE20K 640x640. Paper: 55.2 mIoU (ss),
# 56.0 (ms+flip). The official run: 16 GPUs x 2 images, 160k iterations,
# warm-up 1500 (32 images per step, 5.12M in all); here 8 GPUs x 2 images x
# 2 accumulated iterations per step, 320k iterations, warm-up 3000,
# evaluation and checkpoints every 4000 (2000 steps). XL was pretrained with
# mean = std = 127.5 (RGB), has no small kernel, dw_ratio 1.5, and a BN on
# every output feature map. (The official config hands its test pipeline to
# the training set, which cannot train; this config trains with the 640
# training pipeline of its siblings.)
_base_ = ['./upernet_replknet31b-in22k_8xb2-accum8-320k_ade20k-640x640.py']
pretrained_weights = 'checkpoints/RepLKNet-XL_MegData73M_pretrain.pth'
data_preprocessor = dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5])
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        arch='XL',
        drop_path_rate=0.5,
        norm_intermediate_features=True,
        init_cfg=dict(checkpoint=pretrained_weights)),
    decode_head=dict(in_channels=[256, 512, 1024, 2048]),
    auxiliary_head=dict(in_channels=1024))

accumulative_counts = 2
max_iters = 320000
warmup_iters = 3000
interval = 4000
optim_wrapper = dict(accumulative_counts=accumulative_counts)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=warmup_iters),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=interval)
default_hooks = dict(checkpoint=dict(interval=interval))
