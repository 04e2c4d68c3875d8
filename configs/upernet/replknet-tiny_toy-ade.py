# Tiny RepLKNet + UperNet on the embedded toy ADE20K-layout data
# (tools/make_toy_data.py --task seg --out data/toy_ade). Trains on 2 CPU
# cores in a few minutes; used by `make demo` and the tests.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    'mmseg::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmrep'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
crop_size = (64, 64)
num_classes = 4
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=crop_size),
    # Same block structure as 31B; small channels and kernels, 1 pair/stage.
    backbone=dict(
        _delete_=True,
        type='RepLKNet',
        arch=dict(large_kernel_sizes=[13, 11, 9, 7], layers=[1, 1, 1, 1],
                  channels=[16, 32, 64, 128], small_kernel=3, dw_ratio=1),
        drop_path_rate=0.1,
        norm_cfg=norm_cfg),
    decode_head=dict(in_channels=[16, 32, 64, 128], channels=32,
                     num_classes=num_classes, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=64, channels=16, num_classes=num_classes,
                        norm_cfg=norm_cfg))

# ADE20K layout; label 0 of the PNGs is "unlabeled" (reduce_zero_label).
dataset_type = 'BaseSegDataset'
data_root = 'data/toy_ade'
metainfo = dict(
    classes=('background', 'square', 'circle', 'triangle'),
    palette=[[120, 120, 120], [220, 40, 40], [40, 200, 40], [40, 40, 210]])
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='Resize', scale_factor=r, keep_ratio=True)
              for r in (0.75, 1.0, 1.25)],
             [dict(type='RandomFlip', prob=0., direction='horizontal'),
              dict(type='RandomFlip', prob=1., direction='horizontal')],
             [dict(type='LoadAnnotations', reduce_zero_label=True)],
             [dict(type='PackSegInputs')],
         ]),
]
dataset_common = dict(
    type=dataset_type, data_root=data_root, metainfo=metainfo,
    img_suffix='.jpg', seg_map_suffix='.png', reduce_zero_label=True)
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        **dataset_common, pipeline=train_pipeline,
        data_prefix=dict(img_path='images/training',
                         seg_map_path='annotations/training')))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **dataset_common, pipeline=test_pipeline,
        data_prefix=dict(img_path='images/validation',
                         seg_map_path='annotations/validation')))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

max_iters = 600
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.999),
                   weight_decay=0.05),
    # plain-dict parameter groups: torch.compile (compile=True) traces them
    constructor='PlainGroupsOptimWrapperConstructor',
    paramwise_cfg=dict(norm_decay_mult=0.))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=30),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=30,
         end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=max_iters // 2, max_keep_ckpts=2))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
