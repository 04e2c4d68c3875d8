"""Every shipped segmentation config loads, builds, and trains one step."""
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData

from ..helpers import (build, config_id, configs, load, shrink_backbone,
                       train_step_updating_every_parameter)
from ..helpers.unireplknet import deploy_params

SEG_CONFIGS = configs('upernet')
# UperNet parameters of the UniRepLKNet official README (millions, without
# the auxiliary head, as mmseg's get_flops counts them): those of the
# re-parameterized form; the training form has 0.65M (T) to 2.17M (XL) more.
UNI_PAPER_PARAMS = {'t': 61, 's': 86, 's-in22k': 86, 'b-in22k': 130,
                    'l-in22k': 254, 'xl-in22k': 425}


@pytest.mark.parametrize('path', SEG_CONFIGS, ids=config_id)
def test_paper_config_builds_its_model(path):
    cfg = load(path)
    assert cfg.default_scope == 'mmseg'
    kind = cfg.model.backbone.type
    assert kind == ('UniRepLKNet' if 'unireplknet' in path else 'RepLKNet')
    cfg.model.backbone.init_cfg = None
    with torch.device('meta'):  # full size; no memory or init cost
        model = build(cfg)
    assert type(model.backbone).__name__ == kind
    assert model.decode_head.in_channels == model.backbone.channels


UNI_SEG_CONFIGS = [p for p in SEG_CONFIGS if 'unireplknet' in p]


@pytest.mark.parametrize('path', UNI_SEG_CONFIGS, ids=config_id)
def test_unireplknet_parameters_match_the_paper(path):
    paper = UNI_PAPER_PARAMS[re.match(r'upernet_unireplknet-([\w-]+?)_8xb2',
                                      osp.basename(path)).group(1)]
    params = deploy_params(load(path), without=('auxiliary_head',)) / 1e6
    assert abs(params - paper) <= 0.005 * paper, (params, paper)


@pytest.mark.parametrize('path', SEG_CONFIGS, ids=config_id)
def test_one_training_step_with_a_shrunken_backbone(path):
    from mmseg.structures import SegDataSample
    cfg = load(path)
    channels = shrink_backbone(cfg)
    cfg.model.decode_head.update(in_channels=channels, channels=16)
    cfg.model.auxiliary_head.update(in_channels=channels[2], channels=8)
    model = build(cfg)
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    # The recipes accumulate gradients over several iterations; make this
    # one iteration the last of the run so that the optimizer steps.
    optim_wrapper.initialize_count_status(model, 0, 1)
    torch.manual_seed(0)
    h, w = 96, 128
    num_classes = cfg.model.decode_head.num_classes
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(h, w),
                                             ori_shape=(h, w)))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, h, w)))
        samples.append(sample)
    data = dict(inputs=[torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
                        for _ in range(2)], data_samples=samples)
    train_step_updating_every_parameter(model, optim_wrapper, data)


# The two UniRepLKNet test pipelines (512: (2048, 512); 640: (2560, 640)),
# each resized to a multiple of 32 at every TTA scale.
TTA_CONFIGS = [p for p in SEG_CONFIGS if osp.basename(p) in (
    'upernet_unireplknet-t_8xb2-160k_ade20k-512x512.py',
    'upernet_unireplknet-s-in22k_8xb2-160k_ade20k-640x640.py')]


def odd_sized_ade_image(root, h=61, w=97):
    """An ADE20K-layout validation set of one image whose resized sides are
    not multiples of 32 at any TTA scale."""
    import mmcv
    gen = np.random.default_rng(0)
    mmcv.imwrite(gen.integers(0, 256, (h, w, 3), dtype=np.uint8),
                 f'{root}/images/validation/odd.jpg')
    mmcv.imwrite(gen.integers(0, 5, (h, w), dtype=np.uint8),
                 f'{root}/annotations/validation/odd.png')
    return str(root)


@pytest.mark.parametrize('path', TTA_CONFIGS, ids=config_id)
def test_tta_runs_the_config_pipeline_with_a_shrunken_backbone(
        path, tmp_path):
    """--tta's model and pipeline, as tools/test.py builds them, on one
    61x97 image: 12 views (6 scales x flip), each resized to a multiple of
    32, merged into one map of the image's size."""
    from mmengine.dataset import pseudo_collate
    from mmseg.registry import DATASETS

    from mmrep.apis.test import enable_tta
    cfg = load(path)
    channels = shrink_backbone(cfg)
    cfg.model.decode_head.update(in_channels=channels, channels=16)
    cfg.model.auxiliary_head.update(in_channels=channels[2], channels=8)
    enable_tta(cfg, 'seg')
    torch.manual_seed(0)
    model = build(cfg)
    dataset = cfg.test_dataloader.dataset
    dataset.update(data_root=odd_sized_ade_image(tmp_path))
    sample = DATASETS.build(dataset)[0]
    shapes = [tuple(x.shape[1:]) for x in sample['inputs']]
    assert len(shapes) == 12 and len(set(shapes)) == 6
    assert all(h % 32 == 0 and w % 32 == 0 for h, w in shapes), shapes
    model.eval()
    with torch.no_grad():
        result = model.test_step(pseudo_collate([sample]))[0]
    assert tuple(result.pred_sem_seg.shape) == (61, 97)
