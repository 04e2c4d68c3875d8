"""Checkpoints as users bring them: written the way the originals are
written, from a URL, and through init_cfg lists."""
import argparse
import functools
import http.server
import os
import pathlib
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

from mmrep.checkpoint import CheckpointError, read_checkpoint
from mmrep.models import RepLKNet

from ..helpers import (TINY_ARCH, assert_loaded, build_loaded,
                       official_imagenet, random_weights, run_tool)


def training_script_checkpoint(path, model, ema):
    """As the official ImageNet training script saves (ConvNeXt's main.py):
    weights, EMA weights, optimizer, AMP scaler, epoch and its argparse
    Namespace."""
    args = argparse.Namespace(model='RepLKNet-31B', drop_path=0.3, lr=4e-3,
                              batch_size=64, data_path='/data/imagenet',
                              model_ema=True, use_checkpoint=True,
                              input_size=224, output_dir='output/31b')
    torch.save({'model': official_imagenet(model),
                'model_ema': official_imagenet(ema),
                'optimizer': {'state': {0: {'step': torch.tensor(10.),
                                            'exp_avg': torch.zeros(3)}},
                              'param_groups': [{'lr': 4e-3, 'params': [0],
                                                'betas': (0.9, 0.999)}]},
                'epoch': 299,
                'scaler': {'scale': 65536.0, 'growth_factor': 2.0,
                           'backoff_factor': 0.5, 'growth_interval': 2000,
                           '_growth_tracker': 7},
                'args': args}, path)


def mmcv1_downstream_checkpoint(path, weights):
    """As mmcv 1.x saves a downstream model (the official UperNet, FCOS and
    Cascade checkpoints): meta with config text, classes, palette and numpy
    scalars, the state dict, and the optimizer's state."""
    torch.save({
        'meta': {'mmcv_version': '1.4.2', 'env_info': 'sys.platform: linux',
                 'config': "norm_cfg = dict(type='SyncBN')\nmodel = ...",
                 'seed': np.int64(0), 'exp_name': 'upernet.py',
                 'CLASSES': ('wall', 'building'), 'PALETTE': [[120] * 3] * 2,
                 'epoch': 1, 'iter': 40000, 'time': 'Mon Mar 14 2022',
                 'hook_msgs': {'last_ckpt': 'iter_40000.pth',
                               'best_score': np.float64(0.4991),
                               'best_ckpt': 'best_mIoU_iter_38000.pth'}},
        'state_dict': {f'backbone.{k}': v for k, v in weights.items()},
        'optimizer': {'state': {}, 'param_groups': [
            {'lr': 0.0, 'betas': (0.9, 0.999), 'weight_decay': 0.05,
             'params': list(range(3))}]}}, path)


def test_training_script_file_gives_model_or_ema_weights(tmp_path):
    model, ema = random_weights(), random_weights()
    for tensor in ema.values():
        if tensor.is_floating_point():
            tensor.mul_(2)
    path = tmp_path / 'checkpoint-best.pth'
    training_script_checkpoint(path, model, ema)
    assert_loaded(build_loaded(path), model)
    loaded = RepLKNet(arch=TINY_ARCH, init_cfg=dict(
        type='Pretrained', checkpoint=str(path), model_key='model_ema'))
    loaded.init_weights()
    assert_loaded(loaded, ema)
    with pytest.raises(CheckpointError, match="no weights under 'ema'"):
        RepLKNet(arch=TINY_ARCH, init_cfg=dict(
            type='Pretrained', checkpoint=str(path),
            model_key='ema')).init_weights()


def test_training_script_file_converts_with_its_ema(tmp_path):
    model, ema = random_weights(), random_weights()
    ema = {k: v * 2 if v.is_floating_point() else v for k, v in ema.items()}
    src = tmp_path / 'checkpoint-best.pth'
    training_script_checkpoint(src, model, ema)
    dst = tmp_path / 'ema.pth'
    run_tool('tools/convert_checkpoint.py', str(src), str(dst),
             '--model-key', 'model_ema')
    assert_loaded(build_loaded(dst), ema)


def test_mmcv1_downstream_file_loads_its_backbone(tmp_path):
    weights = random_weights()
    path = tmp_path / 'upernet_official.pth'
    mmcv1_downstream_checkpoint(path, weights)
    assert_loaded(build_loaded(path), weights)
    assert read_checkpoint(path)['meta']['hook_msgs']['best_score'] == 0.4991


def test_allowed_types_take_effect_when_mmrep_is_imported(tmp_path):
    """mmseg's and mmdet's tools load checkpoints with torch's own
    weights-only default; importing mmrep (custom_imports) is enough."""
    path = tmp_path / 'upernet_official.pth'
    mmcv1_downstream_checkpoint(path, random_weights())
    args = tmp_path / 'args.pth'
    torch.save({'args': argparse.Namespace(lr=1.0)}, args)
    code = ('import sys, torch\n'
            'def load(p): return torch.load(p, weights_only=True)\n'
            'try:\n    load(sys.argv[1]); sys.exit("read before import")\n'
            'except Exception: pass\n'
            'import mmrep\n'
            'print(load(sys.argv[1])["meta"]["seed"], load(sys.argv[2])["args"])\n')
    out = subprocess.run([sys.executable, '-c', code, str(path), str(args)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ['0', 'Namespace(lr=1.0)']


def test_other_pickled_types_are_refused_by_name(tmp_path):
    path = tmp_path / 'with_path.pth'
    torch.save({'state_dict': random_weights(),
                'work_dir': pathlib.PurePosixPath('/tmp/x')}, path)
    with pytest.raises(CheckpointError,
                       match=r'pickled pathlib\.PurePosixPath'):
        build_loaded(path)


@pytest.fixture
def http_server(tmp_path):
    """A static HTTP server on 127.0.0.1 serving ``tmp_path/www``."""
    root = tmp_path / 'www'
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(root))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


def test_url_checkpoint_is_downloaded_once_into_the_cache(
        http_server, tmp_path, monkeypatch):
    root, url = http_server
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    weights = random_weights()
    torch.save(official_imagenet(weights), root / 'RepLKNet-tiny.pth')
    assert_loaded(build_loaded(f'{url}/RepLKNet-tiny.pth'), weights)
    cached = tmp_path / 'hub' / 'checkpoints' / 'RepLKNet-tiny.pth'
    assert cached.is_file()
    (root / 'RepLKNet-tiny.pth').unlink()  # served no more: the cache reads
    assert_loaded(build_loaded(f'{url}/RepLKNet-tiny.pth'), weights)
    with pytest.raises(FileNotFoundError, match='nothing.pth'):
        build_loaded(f'{url}/nothing.pth')


def test_convert_tool_reads_a_url(http_server, tmp_path):
    root, url = http_server
    weights = random_weights()
    torch.save(official_imagenet(weights), root / 'served.pth')
    dst = tmp_path / 'backbone.pth'
    env = dict(os.environ, TORCH_HOME=str(tmp_path / 'torch_home'))
    run_tool('tools/convert_checkpoint.py', f'{url}/served.pth', str(dst),
             env=env)
    assert_loaded(build_loaded(dst), weights)
    assert (tmp_path / 'torch_home' / 'hub' / 'checkpoints' /
            'served.pth').is_file()


def test_list_init_cfg_loads_the_pretrained_entry_last(tmp_path):
    weights = random_weights()
    path = tmp_path / 'official.pth'
    torch.save(official_imagenet(weights), path)
    model = RepLKNet(arch=TINY_ARCH, init_cfg=[
        dict(type='Pretrained', checkpoint=str(path)),
        dict(type='Constant', layer='Conv2d', val=0.)])
    model.init_weights()
    assert_loaded(model, weights)
    assert isinstance(model.init_cfg, list)  # left as given


def test_model_zoo_scheme_names_an_unknown_model(tmp_path):
    # mmengine ships the scheme tables: no network is needed to refuse it
    with pytest.raises(FileNotFoundError, match='no model'):
        build_loaded('open-mmlab://no_such_replknet')
