# UniRepLKNet-B (ImageNet-22K) + UperNet, ADE20K 640x640: the S 640 recipe
# with B, as the official config (upernet_unireplknet_b_in22k_640_160k_
# ade20k.py). Paper: 53.5 mIoU (ss), 53.9 (ms+flip, --tta).
_base_ = ['./upernet_unireplknet-s-in22k_8xb2-160k_ade20k-640x640.py']
dims = [128, 256, 512, 1024]
model = dict(
    backbone=dict(
        arch='B',
        init_cfg=dict(checkpoint='checkpoints/'
                      'unireplknet_b_in22k_to_in1k_384_acc87.40.pth')),
    decode_head=dict(in_channels=dims),
    auxiliary_head=dict(in_channels=dims[2]))
