"""Parameter and FLOP counts of the paper's UperNet-31B (REFERENCE table)."""
from mmengine.config import Config

import get_flops

from ..conftest import ROOT


def test_upernet_31b_ade20k_params_and_flops_match_the_paper():
    cfg = Config.fromfile(f'{ROOT}/configs/upernet/replknet31b_ade20k.py')
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.with_cp = False
    result = get_flops.count(cfg, (512, 2048))
    # mmengine's counter on this model: 112.2M params (no aux head), 1174G.
    assert abs(result['params'] / 1e6 - 112.2) < 0.1, result
    assert abs(result['flops'] / 1e9 - 1174) < 5, result
    assert abs(result['backbone_params'] / 1e6 - 78.84) < 0.01, result
    assert result['params_with_aux'] > result['params']
