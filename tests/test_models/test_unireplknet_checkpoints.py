"""UniRepLKNet checkpoints in the official formats, written the way the
originals are (keys and shapes from the official layout): ImageNet files,
the training script's container, mmcv 1.x downstream checkpoints; through
init_cfg, a URL, tools/convert_checkpoint.py, load_from and tools/test.py."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmrep.checkpoint import CheckpointError, load_backbone_checkpoint
from mmrep.models import RepLKNet, UniRepLKNet

from ..helpers import (ROOT, TINY_ARCH, mmcv1_downstream_checkpoint,
                       read_or_refused_by_old_torch, run_tool,
                       training_script_checkpoint)
from ..helpers.unireplknet import (TINY_UNI_ARCH, official_keys,
                                   official_state_dict)

TOY_UNI_SEG = f'{ROOT}/configs/upernet/unireplknet-tiny_toy-ade.py'


def imagenet(seed=0):
    """An official ImageNet file's state dict: backbone and classifier."""
    return official_state_dict(TINY_UNI_ARCH, seed, classifier=True,
                               out_norms=False)


def backbone_part(state):
    return {k: v for k, v in state.items()
            if not k.startswith(('norm.', 'head.'))}


def build_loaded(path, **init):
    model = UniRepLKNet(arch=TINY_UNI_ARCH, init_cfg=dict(
        type='Pretrained', checkpoint=str(path), **init))
    model.init_weights()
    return model


def assert_loaded(model, weights):
    own = model.state_dict()
    for key, value in weights.items():
        assert torch.equal(own[key], value), key


@pytest.mark.parametrize('wrap', ['plain', 'model'])
def test_imagenet_file_loads_key_for_key_and_reports_the_rest(tmp_path,
                                                              wrap):
    state = imagenet()
    path = tmp_path / 'unireplknet_tiny_in1k_224.pth'
    torch.save(state if wrap == 'plain' else {'model': state}, path)
    model = build_loaded(path)
    assert_loaded(model, backbone_part(state))
    report = load_backbone_checkpoint(UniRepLKNet(arch=TINY_UNI_ARCH),
                                      str(path))
    assert report.ignored == ['head.bias', 'head.weight', 'norm.bias',
                              'norm.weight']
    # the downstream output norms are new: reported, left as initialized
    assert report.missing == [f'norm{i}.{p}' for i in range(4)
                              for p in ('bias', 'weight')]
    assert report.unexpected == []


def test_training_script_file_gives_model_or_ema_weights(tmp_path):
    path = tmp_path / 'checkpoint-best.pth'
    training_script_checkpoint(path, imagenet(0), imagenet(1))
    with read_or_refused_by_old_torch():
        assert_loaded(build_loaded(path), backbone_part(imagenet(0)))
        assert_loaded(build_loaded(path, model_key='model_ema'),
                      backbone_part(imagenet(1)))


def test_url_checkpoint_loads(http_server, tmp_path, monkeypatch):
    root, url = http_server
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    torch.save({'model': imagenet()}, root / 'unireplknet_tiny.pth')
    model = build_loaded(f'{url}/unireplknet_tiny.pth')
    assert_loaded(model, backbone_part(imagenet()))


def test_deploy_form_keys_are_the_official_deploy_ones():
    model = UniRepLKNet(arch=TINY_UNI_ARCH, deploy=True)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == \
        official_keys(TINY_UNI_ARCH, deploy=True)


def test_wrong_arch_names_the_mismatched_keys_and_shapes(tmp_path):
    other = dict(TINY_UNI_ARCH, dims=[8, 16, 32, 48])
    path = tmp_path / 'other.pth'
    torch.save(official_state_dict(other, classifier=True, out_norms=False),
               path)
    with pytest.raises(CheckpointError,
                       match=r'stages\.3\.0\..*\(48.*vs model \(64'):
        build_loaded(path)


def test_checkpoint_of_the_other_family_is_refused_by_name(tmp_path):
    path = tmp_path / 'replknet.pth'
    torch.save(RepLKNet(arch=TINY_ARCH).state_dict(), path)
    with pytest.raises(CheckpointError,
                       match='no key matches UniRepLKNet.*of a RepLKNet'):
        build_loaded(path)
    path = tmp_path / 'unireplknet.pth'
    torch.save(imagenet(), path)
    model = RepLKNet(arch=TINY_ARCH, init_cfg=dict(type='Pretrained',
                                                   checkpoint=str(path)))
    with pytest.raises(CheckpointError,
                       match='no key matches RepLKNet.*of a UniRepLKNet'):
        model.init_weights()


# ------------------------------------------------- downstream (mmcv 1.x)
def toy_segmentor_heads():
    """The toy UperNet's head weights (mmseg 1.x keeps mmseg 0.x's names),
    prefixed as in the file."""
    cfg = Config.fromfile(TOY_UNI_SEG)
    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    return {k: v for k, v in model.state_dict().items()
            if not k.startswith('backbone.')}


@pytest.fixture(scope='module')
def official_upernet(tmp_path_factory):
    """An official mmseg 0.x UperNet + UniRepLKNet checkpoint of the toy
    model: backbone keys from the official layout, mmcv 1.x meta with
    numpy scalars, an optimizer state."""
    arch = Config.fromfile(TOY_UNI_SEG).model.backbone.arch
    weights = official_state_dict(arch.to_dict())
    path = tmp_path_factory.mktemp('official') / 'upernet_unireplknet.pth'
    mmcv1_downstream_checkpoint(path, weights, toy_segmentor_heads())
    return path, weights


@pytest.mark.downstream
def test_downstream_file_loads_its_backbone_through_init_cfg(
        official_upernet):
    path, weights = official_upernet
    arch = Config.fromfile(TOY_UNI_SEG).model.backbone.arch.to_dict()
    model = UniRepLKNet(arch=arch, init_cfg=dict(
        type='Pretrained', checkpoint=str(path), strict=True))
    model.init_weights()  # strict: nothing missing, nothing unexpected
    assert_loaded(model, weights)


@pytest.mark.downstream
def test_downstream_file_converts_and_tests_with_load_from(
        official_upernet, toy_ade, tmp_path):
    src, weights = official_upernet
    dst = tmp_path / 'upernet_unireplknet.pth'
    proc = run_tool('tools/convert_checkpoint.py', str(src), str(dst),
                    '--config', TOY_UNI_SEG)
    assert '(downstream format' in proc.stdout and 'checked' in proc.stdout
    converted = torch.load(dst, weights_only=True)['state_dict']
    for key, value in weights.items():
        assert torch.equal(converted[f'backbone.{key}'], value), key
    data = [f'test_dataloader.dataset.data_root={toy_ade}',
            'test_dataloader.dataset.indices=2']
    # the official file itself and the converted one: tools/test.py hands
    # its CHECKPOINT to the runner as load_from
    for args in ([str(src)], [str(dst)]):
        proc = run_tool('tools/test.py', TOY_UNI_SEG, *args, '--work-dir',
                        str(tmp_path / 'wd'), '--cfg-options', *data)
        assert 'mIoU' in proc.stdout
        assert 'missing keys' not in proc.stdout.lower()
        assert 'unexpected key' not in proc.stdout.lower()
