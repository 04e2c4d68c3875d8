"""tools/deploy/reparameterize.py on the toy models: the deploy model
predicts what the trained one does."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmrep.apis import build_trained
from mmrep.apis.agreement import unmatched

from ..helpers import TOY_DET, TOY_SEG, random_checkpoint, run_tool


def toy_batch(config, data_root, num=4):
    cfg = Config.fromfile(config)
    init_default_scope(cfg.default_scope)
    from mmengine.registry import DATASETS
    dataset = cfg.test_dataloader.dataset
    dataset.data_root = data_root
    if 'ann_file' in dataset:
        dataset.ann_file = 'annotations/instances_val.json'
    ds = DATASETS.build(dataset)
    return pseudo_collate([ds[i] for i in range(num)])


def check_replknet_deploy_keys(state, options):
    assert any('lkb_reparam' in k for k in state)
    assert not any('lkb_origin' in k or 'small_conv' in k for k in state)
    if options:  # --fuse-conv-bn: only the pre-block BNs are left
        bns = {k.split('.')[-2] for k in state
               if k.startswith('backbone.') and k.endswith('running_var')}
        assert bns == {'prelkb_bn', 'preffn_bn'}, bns


def deployed_and_trained(config, tmp_path, *options, checkpoint=None,
                         check_keys=check_replknet_deploy_keys):
    """The model of ``checkpoint`` (random weights if None) and its deploy
    form written by tools/deploy/reparameterize.py, both built from their
    files (strictly); ``check_keys(state_dict, options)`` checks the deploy
    checkpoint's keys."""
    ckpt = checkpoint or str(tmp_path / 'trained.pth')
    if checkpoint is None:
        random_checkpoint(config, ckpt)
    proc = run_tool('tools/deploy/reparameterize.py', config, ckpt,
                    str(tmp_path / 'deploy'), *options)
    assert 'deploy config' in proc.stdout
    name = osp.splitext(osp.basename(config))[0]
    deploy_cfg = tmp_path / 'deploy' / f'{name}_deploy.py'
    deploy_ckpt = tmp_path / 'deploy' / f'{name}_deploy.pth'
    check_keys(torch.load(deploy_ckpt, weights_only=True)['state_dict'],
               options)
    trained = build_trained(Config.fromfile(config), ckpt)
    deploy = build_trained(Config.fromfile(str(deploy_cfg)), str(deploy_ckpt))
    return trained, deploy


def rel_err(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def assert_close_maps(got, want, what):
    for i, (a, b) in enumerate(zip(got, want)):
        assert rel_err(a, b) < 1e-4, (what, i, rel_err(a, b))


@pytest.mark.parametrize('options', [[], ['--fuse-conv-bn']], ids=str)
def test_deploy_segmentor_predicts_the_same(options, toy_ade, tmp_path):
    trained, deploy = deployed_and_trained(TOY_SEG, tmp_path, *options)
    assert_segmentor_predicts_the_same(trained, deploy,
                                       toy_batch(TOY_SEG, toy_ade))


def assert_segmentor_predicts_the_same(trained, deploy, batch):
    """Backbone maps and logits agree; so do the labels, wherever the two
    best classes are not tied within rounding."""
    with torch.no_grad():
        inputs = trained.data_preprocessor(batch)['inputs']
        assert_close_maps(deploy.backbone(inputs), trained.backbone(inputs),
                          'backbone')
        a, b = trained.test_step(batch), deploy.test_step(batch)
    for x, y in zip(a, b):
        la, lb = x.seg_logits.data, y.seg_logits.data
        assert rel_err(lb, la) < 1e-4
        # pixels whose two best classes are tied within rounding may flip
        top2 = la.topk(2, dim=0).values
        decided = (top2[0] - top2[1]) > 1e-4 * la.abs().max()
        pa, pb = x.pred_sem_seg.data[0], y.pred_sem_seg.data[0]
        assert decided.float().mean() > 0.99
        assert torch.equal(pa[decided], pb[decided])


def coco_bbox_map(predictions, data_root):
    from mmdet.evaluation import CocoMetric
    metric = CocoMetric(
        ann_file=osp.join(data_root, 'annotations', 'instances_val.json'),
        metric='bbox')
    metric.dataset_meta = dict(classes=('square', 'circle', 'triangle'))
    metric.process({}, [p.to_dict() for p in predictions])
    return metric.evaluate(len(predictions))['coco/bbox_mAP']


def test_deploy_detector_predicts_the_same(toy_coco, toy_det_checkpoint,
                                           tmp_path):
    """The trained toy Mask R-CNN and its deploy form: backbone and neck
    maps to 1e-4, every confident box matched, the same toy mAP."""
    trained, deploy = deployed_and_trained(TOY_DET, tmp_path,
                                           checkpoint=toy_det_checkpoint)
    batch = toy_batch(TOY_DET, toy_coco, num=24)
    with torch.no_grad():
        inputs = trained.data_preprocessor(batch)['inputs']
        feats = trained.backbone(inputs), deploy.backbone(inputs)
        assert_close_maps(feats[1], feats[0], 'backbone')
        assert_close_maps(deploy.neck(feats[1]), trained.neck(feats[0]),
                          'neck')
        a, b = trained.test_step(batch), deploy.test_step(batch)
    boxes = sum(int((x.pred_instances.scores >= 0.3).sum()) for x in a)
    assert boxes >= len(a)  # the trained model is confident somewhere
    for x, y in zip(a, b):
        assert unmatched(x.pred_instances, y.pred_instances) == []
        assert unmatched(y.pred_instances, x.pred_instances) == []
    maps = [coco_bbox_map(r, toy_coco) for r in (a, b)]
    assert maps[0] > 0.2 and abs(maps[0] - maps[1]) <= 0.01, maps
