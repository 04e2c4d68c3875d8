"""Loading RepLKNet weights in the formats users bring, via init_cfg."""
import pickle

import pytest
import torch

from mmrep.checkpoint import (CheckpointError, compare_keys,
                              load_backbone_checkpoint)
from mmrep.models import RepLKNet

from ..helpers import (TINY_ARCH, assert_loaded, build_loaded,
                       official_imagenet, random_weights)


@pytest.mark.parametrize('wrap', ['plain', 'model'])
def test_official_imagenet_checkpoint_loads(tmp_path, wrap):
    weights = random_weights()
    sd = official_imagenet(weights)
    path = tmp_path / 'official.pth'
    torch.save(sd if wrap == 'plain' else {'model': sd}, path)
    assert_loaded(build_loaded(path), weights)


def test_report_names_missing_unexpected_and_ignored_keys(tmp_path):
    weights = official_imagenet(random_weights())
    weights.pop('stem.0.conv.weight')
    weights['stages.0.extra.weight'] = torch.zeros(1)
    path = tmp_path / 'partial.pth'
    torch.save(weights, path)
    model = RepLKNet(arch=TINY_ARCH)
    report = load_backbone_checkpoint(model, str(path))
    assert report.missing == ['stem.0.conv.weight']
    assert report.unexpected == ['stages.0.extra.weight']
    assert 'head.weight' in report.ignored and 'norm.bias' in report.ignored
    with pytest.raises(CheckpointError, match='stem.0.conv.weight'):
        RepLKNet(arch=TINY_ARCH, init_cfg=dict(
            type='Pretrained', checkpoint=str(path), strict=True)).init_weights()


def test_mmpretrain_checkpoint_loads_with_its_stage_norms(tmp_path):
    # mmpretrain's backbone has a BN on every output stage (stages.i.norm).
    weights = random_weights(norm_intermediate_features=True)
    path = tmp_path / 'mmpretrain.pth'
    torch.save({'meta': {'mmpretrain_version': '1.2.0'},
                'state_dict': {'backbone.' + k: v for k, v in weights.items()}
                | {'head.fc.weight': torch.zeros(1000, 64)}}, path)
    model = build_loaded(path, norm_intermediate_features=True)
    assert_loaded(model, weights)
    # Into a model without stage norms (31B/31L): they are reported by name.
    report = load_backbone_checkpoint(RepLKNet(arch=TINY_ARCH), str(path))
    assert 'stages.0.norm.weight' in report.unexpected
    assert report.missing == []


def test_downstream_checkpoint_loads_its_backbone(tmp_path):
    weights = random_weights()
    sd = {'backbone.' + k: v for k, v in weights.items()}
    sd['decode_head.conv_seg.weight'] = torch.zeros(150, 512, 1, 1)
    path = tmp_path / 'upernet.pth'
    torch.save({'meta': {'mmseg_version': '0.20.0', 'CLASSES': ('a', 'b')},
                'state_dict': sd}, path)
    assert_loaded(build_loaded(path), weights)


def test_wrong_arch_raises_naming_key_and_shapes(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save(RepLKNet(arch=dict(TINY_ARCH, channels=[8, 16, 32, 48]))
               .state_dict(), path)
    with pytest.raises(CheckpointError, match=r'stages\.3\..*\(48.*\(64'):
        build_loaded(path)


def test_checkpoint_of_another_model_raises(tmp_path):
    path = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7),
                'layer1.0.bn1.weight': torch.zeros(64)}, path)
    with pytest.raises(CheckpointError, match='no key matches RepLKNet'):
        build_loaded(path)


def test_missing_and_corrupted_files_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        build_loaded(tmp_path / 'nowhere.pth')
    path = tmp_path / 'truncated.pth'
    torch.save(random_weights(), path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match='truncated.pth'):
        build_loaded(path)


class Evil:
    def __reduce__(self):
        return (print, ('pickle code ran',))


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as f:
        pickle.dump({'stem.0.conv.weight': Evil()}, f)
    with pytest.raises(CheckpointError, match='evil.pth.*does not unpickle'):
        build_loaded(path)


def test_one_key_check_names_every_difference():
    """compare_keys is what loading, converting and resuming all report."""
    own = {'a': torch.zeros(2), 'b': torch.zeros(3, 3), 'c': torch.zeros(1)}
    diff = compare_keys({'b': torch.zeros(3, 4), 'c': torch.ones(1),
                         'z': torch.zeros(1)}, own)
    assert diff.missing == ['a'] and diff.unexpected == ['z']
    assert diff.mismatched == ['b: checkpoint (3, 4) vs model (3, 3)']
    assert diff and not compare_keys(dict(own), own)
