# RepLKNet-31B as the official downstream configs use it (SyncBN, gradient
# checkpointing, drop_path 0.5, the ImageNet-1K weights); one place for the
# segmentation and detection configs, which take it with
#   model = dict(backbone=dict(_base_.replknet31b, _delete_=True))
# (_delete_ drops the base model's ResNet settings) and change what differs.
# Configs still import mmrep themselves (custom_imports): a detection base
# may bring its own custom_imports, which may not stand in two bases.
replknet31b = dict(
    type='RepLKNet',
    arch='31B',
    drop_path_rate=0.5,
    norm_cfg=dict(type='SyncBN', requires_grad=True),
    with_cp=True,
    # Your copy of the official ImageNet weights; override with
    # --cfg-options model.backbone.init_cfg.checkpoint=PATH
    init_cfg=dict(type='Pretrained',
                  checkpoint='checkpoints/RepLKNet-31B_ImageNet-1K_224.pth'))
# Its four feature maps, for the decode head or the FPN.
replknet31b_channels = [128, 256, 512, 1024]
