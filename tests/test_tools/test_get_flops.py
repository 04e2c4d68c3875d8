"""Parameter and FLOP counts of the paper's UperNet-31B (official README:
112M parameters, 1170G FLOPs at 2048x512)."""
from mmengine.config import Config

from mmrep.analysis import count_model

from ..helpers import (ROOT, TOY_SEG, narrow_detector_heads, run_tool,
                       shrink_backbone)


def test_upernet_31b_ade20k_params_and_flops_match_the_paper():
    cfg = Config.fromfile(f'{ROOT}/configs/upernet/upernet_replknet31b_'
                          '8xb2-accum8-320k_ade20k-512x512.py')
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.with_cp = False
    result = count_model(cfg, (512, 2048))
    # mmengine's counter on this model: 112.2M params (no aux head), 1174G.
    assert abs(result['params'] / 1e6 - 112.2) < 0.1, result
    assert abs(result['flops'] / 1e9 - 1174) < 5, result
    assert abs(result['backbone_params'] / 1e6 - 78.84) < 0.01, result
    assert result['params_with_aux'] > result['params']


def test_fcos_31b_params_and_flops_match_the_paper():
    cfg = Config.fromfile(f'{ROOT}/configs/fcos/fcos_replknet31b_fpn_'
                          '8xb2-ms-640-800-2x_coco.py')
    cfg.model.backbone.init_cfg = None
    result = count_model(cfg, (800, 1280))
    assert abs(result['params'] / 1e6 - 87.2) < 0.1, result
    assert abs(result['flops'] / 1e9 - 436) < 2, result  # paper: 437G
    parts = ('backbone_flops', 'neck_flops', 'dense_head_flops')
    assert result['flops'] == sum(result[p] for p in parts)


UNI_T = {
    'upernet': 'upernet/upernet_unireplknet-t_8xb2-160k_ade20k-512x512.py',
    'cascade': 'cascade_mask_rcnn/cascade-mask-rcnn_unireplknet-t_fpn_'
               '4conv1fc-giou_8xb2-ms-crop-3x_coco.py'}


def deployed(config):
    cfg = Config.fromfile(f'{ROOT}/configs/{config}')
    cfg.model.backbone.update(init_cfg=None, deploy=True)
    return cfg


def test_unireplknet_t_upernet_params_and_flops_match_the_paper():
    result = count_model(deployed(UNI_T['upernet']), (512, 2048))
    # mmengine's counter: 60.99M params (no aux head), 947.1G.
    assert abs(result['params'] / 1e6 - 61) < 0.01 * 61, result
    assert abs(result['flops'] / 1e9 - 946) < 0.01 * 946, result


def test_unireplknet_t_cascade_params_and_flops_match_the_paper():
    """The RoI heads as the published count: bbox heads on 1000 proposals,
    mask heads on 100 (mmdet 2.x's forward_dummy)."""
    result = count_model(deployed(UNI_T['cascade']), (800, 1280))
    # mmengine's counter: 88.45M params, 748.1G (RoI heads 544.9G).
    assert abs(result['params'] / 1e6 - 89) < 0.01 * 89, result
    assert abs(result['flops'] / 1e9 - 749) < 0.01 * 749, result
    assert abs(result['roi_head_flops'] / 1e9 - 544.9) < 0.1, result


def narrow_cascade(width=32):
    """The cascade config with a tiny backbone and narrow neck and heads:
    the same parts, counted in seconds."""
    cfg = Config.fromfile(
        f'{ROOT}/configs/cascade_mask_rcnn/cascade-mask-rcnn_replknet31b_fpn_'
        '4conv1fc-giou_8xb1-ms-crop-3x_coco.py')
    cfg.model.neck.in_channels = shrink_backbone(cfg)
    narrow_detector_heads(cfg, width)
    return cfg


def test_two_stage_head_flops_grow_linearly_with_the_proposals():
    """The documented convention: RoI heads counted per stated proposal
    count; bbox heads see all proposals, mask heads the first 100."""
    cfg = narrow_cascade()
    roi = {n: count_model(cfg, (128, 160), n) for n in (150, 300, 600)}
    for n, result in roi.items():
        assert result['num_proposals'] == n
        parts = [v for k, v in result.items()
                 if k.endswith('_flops') and k != 'flops']
        assert result['flops'] == sum(parts)
    step = [roi[300]['roi_head_flops'] - roi[150]['roi_head_flops'],
            roi[600]['roi_head_flops'] - roi[300]['roi_head_flops']]
    assert step[0] > 0
    assert abs(step[1] / step[0] - 2) < 1e-6
    assert roi[150]['backbone_flops'] == roi[600]['backbone_flops']


def test_tool_prints_what_the_counter_counts():
    cfg = Config.fromfile(TOY_SEG)
    expected = count_model(cfg, (64, 96))
    proc = run_tool('tools/get_flops.py', TOY_SEG, '--shape', '64', '96')
    assert f'params: {expected["params"] / 1e6:.2f}M' in proc.stdout
    assert f'flops: {expected["flops"] / 1e9:.2f} GFLOPs' in proc.stdout
