# UniRepLKNet-S (ImageNet-22K, fine-tuned on 1K at 384) + UperNet, ADE20K
# 512x512: the IN-1K S recipe with the IN-22K weights, as the official
# config (upernet_unireplknet_s_in22k_512_160k_ade20k.py). Paper: 51.9 mIoU
# (ss), 52.7 (ms+flip, --tta).
_base_ = ['./upernet_unireplknet-s_8xb2-160k_ade20k-512x512.py']
model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/'
                      'unireplknet_s_in22k_to_in1k_384_acc86.44.pth')))
