# RepLKNet-31B (ImageNet-22K) + UperNet, ADE20K 640x640. Paper: 51.5 mIoU
# (ss), 52.3 (ms+flip). The official run: 2 images per GPU, 40k iterations,
# warm-up 400 (64 GPUs, as its 512x512 sibling: 5.12M images); here 8 GPUs
# x 2 images x 8 accumulated iterations per step, 320k iterations. Images
# are resized to (2048, 512) and cropped to 640 (training), tested at
# (2048, 512) with 640 sliding windows, stride 426.
_base_ = [
    '../_base_/models/upernet_replknet31b.py',
    '../_base_/datasets/ade20k_crop640.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw_poly_accum8-320k.py',
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
