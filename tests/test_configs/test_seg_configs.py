"""Every shipped segmentation config loads, builds, and trains one step."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData

from ..helpers import (build, config_id, configs, load, shrink_backbone,
                       train_step_updating_every_parameter)

SEG_CONFIGS = configs('upernet')


@pytest.mark.parametrize('path', SEG_CONFIGS, ids=config_id)
def test_paper_config_builds_its_model(path):
    cfg = load(path)
    assert cfg.default_scope == 'mmseg'
    assert cfg.model.backbone.type == 'RepLKNet'
    cfg.model.backbone.init_cfg = None
    with torch.device('meta'):  # full size; no memory or init cost
        model = build(cfg)
    assert type(model.backbone).__name__ == 'RepLKNet'
    assert model.decode_head.in_channels == model.backbone.channels


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
