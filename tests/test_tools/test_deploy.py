"""tools/deploy/reparameterize.py on the toy models: the deploy model
predicts what the trained one does."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmrep.apis import build_trained

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


def deployed_and_trained(config, tmp_path, *options):
    ckpt = str(tmp_path / 'trained.pth')
    random_checkpoint(config, ckpt)
    proc = run_tool('tools/deploy/reparameterize.py', config, ckpt,
                    str(tmp_path / 'deploy'), *options)
    assert 'deploy config' in proc.stdout
    name = osp.splitext(osp.basename(config))[0]
    deploy_cfg = tmp_path / 'deploy' / f'{name}_deploy.py'
    deploy_ckpt = tmp_path / 'deploy' / f'{name}_deploy.pth'
    state = torch.load(deploy_ckpt, weights_only=True)['state_dict']
    assert any('lkb_reparam' in k for k in state)
    assert not any('lkb_origin' in k or 'small_conv' in k for k in state)
    if options:  # --fuse-conv-bn: only the pre-block BNs are left
        bns = {k.split('.')[-2] for k in state
               if k.startswith('backbone.') and k.endswith('running_var')}
        assert bns == {'prelkb_bn', 'preffn_bn'}, bns
    trained = build_trained(Config.fromfile(config), ckpt)
    deploy = build_trained(Config.fromfile(str(deploy_cfg)), str(deploy_ckpt))
    return trained, deploy


@pytest.mark.parametrize('options', [[], ['--fuse-conv-bn']], ids=str)
def test_deploy_segmentor_predicts_the_same(options, toy_ade, tmp_path):
    trained, deploy = deployed_and_trained(TOY_SEG, tmp_path, *options)
    batch = toy_batch(TOY_SEG, toy_ade)
    with torch.no_grad():
        a, b = trained.test_step(batch), deploy.test_step(batch)
    for x, y in zip(a, b):
        la, lb = x.seg_logits.data, y.seg_logits.data
        assert ((la - lb).norm() / la.norm()) < 1e-4
        assert torch.equal(x.pred_sem_seg.data, y.pred_sem_seg.data)


def test_deploy_detector_predicts_the_same(toy_coco, tmp_path):
    trained, deploy = deployed_and_trained(TOY_DET, tmp_path)
    batch = toy_batch(TOY_DET, toy_coco)
    with torch.no_grad():
        a, b = trained.test_step(batch), deploy.test_step(batch)
    for x, y in zip(a, b):
        pa, pb = x.pred_instances, y.pred_instances
        assert torch.equal(pa.labels, pb.labels)
        torch.testing.assert_close(pa.bboxes, pb.bboxes, rtol=1e-4,
                                   atol=1e-3)
        torch.testing.assert_close(pa.scores, pb.scores, rtol=1e-4,
                                   atol=1e-5)
