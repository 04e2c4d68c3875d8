# UniRepLKNet-T (ImageNet-1K) + UperNet, ADE20K 512x512, 8 GPUs x 2 images,
# 160k iterations, as the official config
# (upernet_unireplknet_t_512_160k_ade20k.py). Paper: 48.6 mIoU (ss), 49.1
# (ms+flip, --tta). T alone: drop_path 0.2, no gradient checkpointing,
# lr decay rate 1.0 (the official config: "0.9 or 1.0 makes almost no
# difference") over 9 layers.
_base_ = [
    '../_base_/models/upernet_unireplknet.py',
    '../_base_/datasets/ade20k_resize32.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/unireplknet_adamw-layer-decay_poly-160k.py',
]
dims = [80, 160, 320, 640]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        arch='T', drop_path_rate=0.2, with_cp=False,
        init_cfg=dict(
            checkpoint='checkpoints/unireplknet_t_in1k_224_acc83.21.pth')),
    decode_head=dict(in_channels=dims),
    auxiliary_head=dict(in_channels=dims[2]))
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=1.0, num_layers=9))
train_dataloader = dict(batch_size=2)
