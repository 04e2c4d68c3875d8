# UperNet + UniRepLKNet-S, as in the official segmentation release: FCN
# auxiliary head on stage 3 (loss weight 0.4), whole-image test. Only what
# differs from mmseg's UperNet-R50 base is written here.
_base_ = ['mmseg::_base_/models/upernet_r50.py', './unireplknet.py']
custom_imports = dict(imports=['mmrep'], allow_failed_imports=False)
dims = [96, 192, 384, 768]
model = dict(
    pretrained=None,
    backbone=dict(_base_.unireplknet, _delete_=True),
    decode_head=dict(in_channels=dims, num_classes=150),
    auxiliary_head=dict(in_channels=dims[2], num_classes=150),
    test_cfg=dict(mode='whole'))
