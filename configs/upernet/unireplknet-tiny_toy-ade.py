# Tiny UniRepLKNet + UperNet on the embedded toy ADE20K-layout data: the
# RepLKNet toy (same data, heads and schedule) with the backbone replaced.
# Trains on 2 CPU cores in a few minutes; used by the tests.
_base_ = ['./replknet-tiny_toy-ade.py']
model = dict(
    # UniRepLKNet-T's kinds of blocks (3x3, 13x13 and 7x7 Dilated Reparam
    # Blocks), small channels, 1-2 blocks per stage.
    backbone=dict(
        _delete_=True,
        type='UniRepLKNet',
        arch=dict(depths=[1, 1, 2, 1], dims=[16, 32, 64, 128],
                  kernel_sizes=[[3], [13], [13, 3], [7]]),
        drop_path_rate=0.1,
        norm_cfg=dict(type='BN', requires_grad=True)))
