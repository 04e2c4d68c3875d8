# RepLKNet-31B (ImageNet-1K) + UperNet, ADE20K 512x512. Paper: 49.9 mIoU
# (ss), 50.6 (ms+flip, --tta). The official run: 64 GPUs x 2 images, 40k
# iterations, warm-up 400; here 8 GPUs x 2 images x 8 accumulated
# iterations per step, 320k iterations (same 128 images per step, 5.12M in
# all). Whole-image test at (2048, 512).
_base_ = [
    '../_base_/models/upernet_replknet31b.py',
    '../_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw_poly_accum8-320k.py',
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
train_dataloader = dict(batch_size=2)
