# RepLKNet-XL (MegData73M) + UperNet, ADE20K 640x640, 160k iterations.
# Paper: 55.2 mIoU (ss), 56.0 (ms+flip). XL was pretrained with
# mean = std = 127.5 (RGB), has no small kernel, dw_ratio 1.5, and a BN on
# every output feature map.
_base_ = ['./replknet31b-in22k_ade20k-640.py']
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
