# RepLKNet-31L (ImageNet-22K) + UperNet, ADE20K 640x640, 160k iterations.
# Paper: 52.4 mIoU (ss), 52.7 (ms+flip).
_base_ = ['./replknet31b-in22k_ade20k-640.py']
pretrained_weights = 'checkpoints/RepLKNet-31L_ImageNet-22K-to-1K_384.pth'
model = dict(
    backbone=dict(
        arch='31L',
        drop_path_rate=0.3,
        init_cfg=dict(checkpoint=pretrained_weights)),
    decode_head=dict(in_channels=[192, 384, 768, 1536]),
    auxiliary_head=dict(in_channels=768))
