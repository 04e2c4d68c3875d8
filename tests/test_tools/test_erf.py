"""Effective receptive field (``mmrep.analysis.erf``, tools/analysis/erf.py):
a 31x31 model sees further than a 3x3 one."""
import glob
import os.path as osp
import re

import numpy as np
import torch
from mmengine.config import Config

from mmrep.analysis.erf import (THRESHOLDS, area_ratios, build_backbone,
                                effective_receptive_field)

from ..helpers import TOY_SEG, run_tool

SIZE, NUM_IMAGES = 256, 4


def arch_options(kernel):
    return [f'model.backbone.arch.large_kernel_sizes=[{kernel},{kernel},'
            f'{kernel},{kernel}]', 'model.backbone.arch.small_kernel=None',
            'model.backbone.drop_path_rate=0.0']


def random_backbone(kernel):
    """The toy backbone with large kernels of ``kernel``, He-initialized
    (random branches as strong as the identity)."""
    cfg = Config.fromfile(TOY_SEG)
    backbone = cfg.model.backbone
    backbone.arch.update(large_kernel_sizes=[kernel] * 4, small_kernel=None)
    backbone.drop_path_rate = 0.
    backbone.init_cfg = dict(type='Kaiming', layer='Conv2d')
    torch.manual_seed(0)
    return build_backbone(cfg)


def validation_images(root):
    return sorted(glob.glob(osp.join(root, 'images', 'validation', '*.jpg')))


def test_31x31_erf_is_larger_than_3x3(toy_ade):
    images = validation_images(toy_ade)[:NUM_IMAGES]
    ratios = {k: area_ratios(effective_receptive_field(
        random_backbone(k), images, SIZE)) for k in (3, 31)}
    for k in (3, 31):
        values = [ratios[k][t] for t in THRESHOLDS]
        assert values == sorted(values) and 0 < values[0] <= 1
    for t in THRESHOLDS:
        assert ratios[31][t] > ratios[3][t], ratios


def test_tool_writes_the_heat_map_and_prints_the_ratios(toy_ade, tmp_path):
    backbone = random_backbone(31)
    ckpt, out = tmp_path / 'backbone.pth', tmp_path / 'erf31.png'
    torch.save(backbone.state_dict(), ckpt)
    proc = run_tool('tools/analysis/erf.py', TOY_SEG, str(ckpt), '--images',
                    osp.join(toy_ade, 'images', 'validation'),
                    '--num-images', str(NUM_IMAGES), '--size', str(SIZE),
                    '--out', str(out), '--cfg-options', *arch_options(31))
    assert out.stat().st_size > 0
    printed = {float(t): float(r) for t, r in re.findall(
        r'area ratio \(t=([\d.]+)\): ([\d.]+)', proc.stdout)}
    expected = area_ratios(effective_receptive_field(
        backbone, validation_images(toy_ade)[:NUM_IMAGES], SIZE))
    assert sorted(printed) == sorted(THRESHOLDS), proc.stdout
    for t in THRESHOLDS:
        assert abs(printed[t] - expected[t]) < 1e-4, (printed, expected)


def test_area_ratio_of_a_uniform_map_is_the_threshold():
    ratios = area_ratios(np.ones((101, 101)), (0.5, 0.99))
    assert abs(ratios[0.5] - 0.5) < 0.03 and ratios[0.99] > 0.97
