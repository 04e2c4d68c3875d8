# UniRepLKNet as the official downstream configs build it (UniRepLKNet
# repository, segmentation/ and detection/configs): SyncBN, layer scale 1e-6,
# the ImageNet weights; arch, drop_path and with_cp differ per config. Taken
# by the segmentation and detection configs with
#   model = dict(backbone=dict(_base_.unireplknet, _delete_=True, ...))
unireplknet = dict(
    type='UniRepLKNet',
    arch='S',
    drop_path_rate=0.3,
    layer_scale_init_value=1e-6,
    norm_cfg=dict(type='SyncBN', requires_grad=True),
    with_cp=True,
    # Your copy of the official ImageNet weights; override with
    # --cfg-options model.backbone.init_cfg.checkpoint=PATH
    init_cfg=dict(
        type='Pretrained',
        checkpoint='checkpoints/unireplknet_s_in1k_224_acc83.91.pth'))
