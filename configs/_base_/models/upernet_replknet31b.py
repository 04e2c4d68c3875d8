# UperNet + RepLKNet-31B, as in the official segmentation release: SyncBN,
# gradient checkpointing, FCN auxiliary head on stage 3. Only what differs
# from mmseg's UperNet-R50 base is written here.
_base_ = ['mmseg::_base_/models/upernet_r50.py']

custom_imports = dict(imports=['mmrep'], allow_failed_imports=False)
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='RepLKNet',
        arch='31B',
        drop_path_rate=0.5,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        with_cp=True,
        # Your copy of the official ImageNet weights; override with
        # --cfg-options model.backbone.init_cfg.checkpoint=PATH
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/RepLKNet-31B_ImageNet-1K_224.pth')),
    decode_head=dict(in_channels=[128, 256, 512, 1024], num_classes=150),
    auxiliary_head=dict(in_channels=512, num_classes=150))
