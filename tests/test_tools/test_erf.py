"""tools/analysis/erf.py: a 31x31 model sees further than a 3x3 one."""
import os.path as osp
import sys

from ..conftest import ROOT

sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
import erf  # noqa: E402

CONFIG = f'{ROOT}/configs/upernet/replknet-tiny_toy-ade.py'


def arch_option(kernel):
    return [f'model.backbone.arch.large_kernel_sizes=[{kernel},{kernel},'
            f'{kernel},{kernel}]', 'model.backbone.arch.small_kernel=None',
            'model.backbone.drop_path_rate=0.0',
            # He initialization: random branches as strong as the identity
            'model.backbone.init_cfg.type=Kaiming',
            'model.backbone.init_cfg.layer=Conv2d']


def test_31x31_erf_is_larger_than_3x3(toy_ade, tmp_path):
    images = osp.join(toy_ade, 'images', 'validation')
    ratios = {}
    for k in (3, 31):
        out = tmp_path / f'erf{k}.png'
        ratios[k] = erf.main([CONFIG, '--images', images, '--num-images',
                              '4', '--size', '256', '--out', str(out),
                              '--cfg-options', *arch_option(k)])
        assert out.stat().st_size > 0
        values = [ratios[k][t] for t in erf.THRESHOLDS]
        assert values == sorted(values) and 0 < values[0] <= 1
    for t in erf.THRESHOLDS:
        assert ratios[31][t] > ratios[3][t], ratios


def test_area_ratio_of_a_uniform_map_is_the_threshold():
    import numpy as np
    ratios = erf.area_ratios(np.ones((101, 101)), (0.5, 0.99))
    assert abs(ratios[0.5] - 0.5) < 0.03 and ratios[0.99] > 0.97
