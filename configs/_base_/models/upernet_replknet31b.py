# UperNet + RepLKNet-31B, as in the official segmentation release: SyncBN,
# gradient checkpointing, FCN auxiliary head on stage 3. Only what differs
# from mmseg's UperNet-R50 base is written here.
_base_ = ['mmseg::_base_/models/upernet_r50.py', './replknet31b.py']
custom_imports = dict(imports=['mmrep'], allow_failed_imports=False)
model = dict(
    pretrained=None,
    backbone=dict(_base_.replknet31b, _delete_=True),
    decode_head=dict(in_channels=_base_.replknet31b_channels,
                     num_classes=150),
    auxiliary_head=dict(in_channels=_base_.replknet31b_channels[2],
                        num_classes=150))
