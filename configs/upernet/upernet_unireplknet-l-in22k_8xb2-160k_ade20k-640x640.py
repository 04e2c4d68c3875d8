# UniRepLKNet-L (ImageNet-22K) + UperNet, ADE20K 640x640: the S 640 recipe
# with L, drop_path 0.4 and lr decay 0.85, as the official config
# (upernet_unireplknet_l_in22k_640_160k_ade20k.py). Paper: 54.5 mIoU (ss),
# 55.0 (ms+flip, --tta).
_base_ = ['./upernet_unireplknet-s-in22k_8xb2-160k_ade20k-640x640.py']
dims = [192, 384, 768, 1536]
model = dict(
    backbone=dict(
        arch='L', drop_path_rate=0.4,
        init_cfg=dict(checkpoint='checkpoints/'
                      'unireplknet_l_in22k_to_in1k_384_acc87.88.pth')),
    decode_head=dict(in_channels=dims),
    auxiliary_head=dict(in_channels=dims[2]))
optim_wrapper = dict(paramwise_cfg=dict(decay_rate=0.85))
