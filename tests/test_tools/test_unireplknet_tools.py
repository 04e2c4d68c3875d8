"""UniRepLKNet through the tools: the toy segmentation job, the deploy tool
on whole segmentors and detectors, ERF and FLOPs."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from mmrep.analysis import count_model
from mmrep.analysis.complexity import count_flops
from mmrep.analysis.erf import (THRESHOLDS, area_ratios, build_backbone,
                                effective_receptive_field)
from mmrep.models.layers import DilatedReparamBlock

from ..helpers import ROOT, random_checkpoint, run_tool, train_toy
from ..helpers.tools import latest_test_metrics, majority_miou
from .test_deploy import (assert_close_maps,
                          assert_segmentor_predicts_the_same,
                          deployed_and_trained, toy_batch)

TOY_UNI_SEG = f'{ROOT}/configs/upernet/unireplknet-tiny_toy-ade.py'
TOY_UNI_DET = f'{ROOT}/configs/mask_rcnn/unireplknet-tiny_toy-coco.py'
TRAINING_FORM = ('origin_bn', 'dil_conv', 'dil_bn', '.norm.', 'pwconv2.2',
                 'act.1.beta')


def data_options(root):
    return [f'{split}_dataloader.dataset.data_root={root}'
            for split in ('train', 'val', 'test')]


# Half the toy schedule (300 of 600 iterations) keeps the suite short; 250
# iterations already reach 66.9 mIoU against a majority baseline of 19.2.
SHORT_SCHEDULE = ['train_cfg.max_iters=300', 'train_cfg.val_interval=300',
                  'default_hooks.checkpoint.interval=300',
                  'param_scheduler.1.end=300']


def test_toy_segmentation_trains_and_beats_twice_the_majority_baseline(
        toy_ade, tmp_path):
    checkpoint = train_toy(TOY_UNI_SEG, str(tmp_path / 'train'),
                           *data_options(toy_ade), *SHORT_SCHEDULE)
    run_tool('tools/test.py', TOY_UNI_SEG, checkpoint, '--work-dir',
             str(tmp_path / 'test'), '--cfg-options', *data_options(toy_ade))
    miou = latest_test_metrics(str(tmp_path / 'test'))['mIoU']
    baseline = majority_miou(toy_ade)
    assert miou >= 2 * baseline, (miou, baseline)


def check_unireplknet_deploy_keys(state, options):
    backbone = [k for k in state if k.startswith('backbone.')]
    assert backbone and not [k for k in backbone
                             if any(t in k for t in TRAINING_FORM)]
    assert 'backbone.stages.2.1.dwconv.bias' in state  # a 3x3 block's BN


def reparameterized(config, tmp_path):
    """A random 'trained' model of ``config`` and the deploy form written by
    tools/deploy/reparameterize.py, both built from their files (strictly)."""
    trained, deploy = deployed_and_trained(
        config, tmp_path, check_keys=check_unireplknet_deploy_keys)
    assert deploy.backbone.reparam_modules()
    assert all(b.deployed for b in deploy.backbone.reparam_modules())
    return trained, deploy


def test_deploy_tool_on_a_segmentor(toy_ade, tmp_path):
    trained, deploy = reparameterized(TOY_UNI_SEG, tmp_path)
    assert_segmentor_predicts_the_same(trained, deploy,
                                       toy_batch(TOY_UNI_SEG, toy_ade))


def test_deploy_tool_on_a_detector(toy_coco, tmp_path):
    trained, deploy = reparameterized(TOY_UNI_DET, tmp_path)
    batch = toy_batch(TOY_UNI_DET, toy_coco)
    with torch.no_grad():
        inputs = trained.data_preprocessor(batch)['inputs']
        feats = trained.backbone(inputs), deploy.backbone(inputs)
        assert_close_maps(feats[1], feats[0], 'backbone')
        assert_close_maps(deploy.neck(feats[1]), trained.neck(feats[0]),
                          'neck')
        rpn = [m.rpn_head(m.neck(f)) for m, f in zip((trained, deploy),
                                                     feats)]
    for kind in range(2):  # RPN scores and box deltas, every level
        assert_close_maps(rpn[1][kind], rpn[0][kind], f'rpn {kind}')
    assert len(deploy.test_step(batch)) == len(batch['inputs'])


def test_reparameterize_hook_switches_every_block():
    from types import SimpleNamespace

    from mmrep.engine.reparameterize_hook import ReparameterizeHook
    from mmrep.models import UniRepLKNet

    from ..helpers.unireplknet import TINY_UNI_ARCH
    model = torch.nn.Sequential(UniRepLKNet(arch=TINY_UNI_ARCH))
    ReparameterizeHook().before_test(SimpleNamespace(model=model))
    blocks = [b for stage in model[0].stages for b in stage]
    assert len(blocks) == 5 and all(b.deployed for b in blocks)
    assert all(b.dwconv.deployed for b in blocks if hasattr(b.dwconv,
                                                               'deployed'))


def test_fuse_conv_bn_is_refused_for_unireplknet(tmp_path):
    ckpt = str(tmp_path / 'trained.pth')
    random_checkpoint(TOY_UNI_SEG, ckpt)
    proc = run_tool('tools/deploy/reparameterize.py', TOY_UNI_SEG, ckpt,
                    str(tmp_path / 'out'), '--fuse-conv-bn', check=False)
    assert proc.returncode != 0
    assert 'no conv-BN pair left to fuse' in proc.stdout


# ------------------------------------------------------------ ERF, FLOPs
def uni_backbone(kernel):
    """The toy UniRepLKNet with every block's kernel ``kernel``, layer
    scales of 1 and He-initialized convs (random blocks as strong as the
    identity)."""
    cfg = Config.fromfile(TOY_UNI_SEG)
    backbone = cfg.model.backbone
    backbone.arch.kernel_sizes = [kernel] * 4
    backbone.update(layer_scale_init_value=1.0, drop_path_rate=0.,
                    init_cfg=dict(type='Kaiming', layer='Conv2d'))
    torch.manual_seed(0)
    return cfg, build_backbone(cfg)


def test_erf_tool_accepts_it_and_13x13_reaches_further_than_3x3(toy_ade,
                                                               tmp_path):
    images = sorted(glob.glob(osp.join(toy_ade, 'images', 'validation',
                                       '*.jpg')))[:2]
    ratios = {k: area_ratios(effective_receptive_field(
        uni_backbone(k)[1], images, 128)) for k in (3, 13)}
    # Untrained, both concentrate at the centre (the identity paths); the
    # area holding 99% of the contribution is where the kernels show.
    assert ratios[13][0.99] > 1.5 * ratios[3][0.99], ratios
    _, backbone = uni_backbone(13)
    ckpt, out = tmp_path / 'backbone.pth', tmp_path / 'erf.png'
    torch.save(backbone.state_dict(), ckpt)
    proc = run_tool('tools/analysis/erf.py', TOY_UNI_SEG, str(ckpt),
                    '--images', osp.join(toy_ade, 'images', 'validation'),
                    '--num-images', '2', '--size', '128', '--out', str(out),
                    '--cfg-options',
                    'model.backbone.arch.kernel_sizes=[13,13,13,13]',
                    'model.backbone.layer_scale_init_value=1.0')
    printed = {float(t): float(r) for t, r in re.findall(
        r'area ratio \(t=([\d.]+)\): ([\d.]+)', proc.stdout)}
    assert out.stat().st_size > 0
    for t in THRESHOLDS:
        assert abs(printed[t] - ratios[13][t]) < 1e-4, (printed, ratios)


def test_flops_count_the_large_kernel_op():
    block = DilatedReparamBlock(8, 13).eval()
    block.switch_to_deploy()
    flops, _ = count_flops(block, block, torch.rand(1, 8, 20, 16))
    assert flops == 8 * 20 * 16 * 13 * 13  # one multiply-add per tap


def test_flops_tool_prints_what_the_counter_counts():
    expected = count_model(Config.fromfile(TOY_UNI_SEG), (64, 96))
    assert expected['backbone_params'] > 0
    proc = run_tool('tools/get_flops.py', TOY_UNI_SEG, '--shape', '64', '96')
    assert f'params: {expected["params"] / 1e6:.2f}M' in proc.stdout
    assert f'flops: {expected["flops"] / 1e9:.2f} GFLOPs' in proc.stdout


@pytest.mark.parametrize('config', [TOY_UNI_SEG, TOY_UNI_DET])
def test_registered_in_mmseg_and_mmdet(config):
    from mmrep.utils import build_model
    model = build_model(Config.fromfile(config))
    assert type(model.backbone).__name__ == 'UniRepLKNet'
