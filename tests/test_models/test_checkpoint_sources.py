"""Checkpoints as users bring them: written the way the originals are
written, from a URL, and through init_cfg lists."""
import argparse
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub

from mmrep.checkpoint import CheckpointError, read_checkpoint
from mmrep.models import RepLKNet

from ..helpers import (NEEDS_TORCH_2_4, READS_SAFE_TYPES, TINY_ARCH,
                       assert_loaded, build_loaded,
                       mmcv1_downstream_checkpoint, official_imagenet,
                       random_weights, read_or_refused_by_old_torch, run_tool,
                       training_script_checkpoint)


def test_training_script_file_gives_model_or_ema_weights(tmp_path):
    model, ema = random_weights(), random_weights()
    for tensor in ema.values():
        if tensor.is_floating_point():
            tensor.mul_(2)
    path = tmp_path / 'checkpoint-best.pth'
    training_script_checkpoint(path, official_imagenet(model),
                               official_imagenet(ema))
    with read_or_refused_by_old_torch():
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
    training_script_checkpoint(src, official_imagenet(model),
                               official_imagenet(ema))
    dst = tmp_path / 'ema.pth'
    proc = run_tool('tools/convert_checkpoint.py', str(src), str(dst),
                    '--model-key', 'model_ema', check=False)
    if not READS_SAFE_TYPES:  # refused, naming the torch that reads it
        assert proc.returncode == 1 and not dst.exists()
        assert re.search(NEEDS_TORCH_2_4, proc.stdout), proc.stdout
        return
    assert proc.returncode == 0, proc.stdout
    assert_loaded(build_loaded(dst), ema)


def test_mmcv1_downstream_file_loads_its_backbone(tmp_path):
    weights = random_weights()
    path = tmp_path / 'upernet_official.pth'
    mmcv1_downstream_checkpoint(path, weights)
    with read_or_refused_by_old_torch():
        assert_loaded(build_loaded(path), weights)
        assert read_checkpoint(path)['meta']['hook_msgs']['best_score'] == \
            0.4991


def loads_before_and_after_import(paths, show, setup=''):
    """In a fresh interpreter (after ``setup``): ``show(obj)`` of each file
    read by torch's own weights-only load, or the error's type, before and
    after ``import mmrep``; the two lines."""
    code = (f'import sys, torch\n{setup}\n'
            'def read(p):\n'
            '    try:\n'
            '        obj = torch.load(p, weights_only=True)\n'
            '    except Exception as e:\n'
            '        return type(e).__name__\n'
            f'    return {show}\n'
            'print(*map(read, sys.argv[1:]))\n'
            'import mmrep\n'
            'print(*map(read, sys.argv[1:]))\n')
    out = subprocess.run([sys.executable, '-c', code, *map(str, paths)],
                         capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def test_allowed_types_take_effect_when_mmrep_is_imported(tmp_path):
    """mmseg's and mmdet's tools load checkpoints with torch's own
    weights-only default; importing mmrep (custom_imports) is enough where
    torch has an allow-list (>= 2.4), and changes nothing where it has
    none."""
    path = tmp_path / 'upernet_official.pth'
    mmcv1_downstream_checkpoint(path, random_weights())
    args = tmp_path / 'args.pth'
    torch.save({'meta': argparse.Namespace(lr=1.0)}, args)
    before, after = loads_before_and_after_import(
        [path, args], 'type(obj["meta"]).__name__')
    assert before == 'UnpicklingError UnpicklingError'
    assert after == ('dict Namespace' if READS_SAFE_TYPES else before)


@pytest.mark.skipif(not READS_SAFE_TYPES,
                    reason='torch < 2.4 has no weights-only allow-list')
def test_import_keeps_the_users_own_allow_list_working(tmp_path):
    """A user's own allowed globals still load after importing mmrep, and
    an unknown global is still refused by torch (on every torch from 2.4:
    mmrep registers only what that torch's add_safe_globals takes)."""
    path = tmp_path / 'score.pth'
    torch.save([np.float64(0.5)], path)
    other = tmp_path / 'other.pth'
    torch.save([pathlib.PurePosixPath('/x')], other)
    users_list = (
        'import _codecs, numpy as np\n'
        'try:\n    from numpy._core.multiarray import scalar\n'
        'except ImportError:\n    from numpy.core.multiarray import scalar\n'
        'torch.serialization.add_safe_globals([scalar, np.dtype, _codecs.'
        'encode, type(np.dtype(np.float64))])')
    lines = loads_before_and_after_import(
        [path, other], 'float(obj[0])', setup=users_list)
    assert lines == ['0.5 UnpicklingError'] * 2


def test_other_pickled_types_are_refused_by_name(tmp_path):
    path = tmp_path / 'with_path.pth'
    torch.save({'state_dict': random_weights(),
                'work_dir': pathlib.PurePosixPath('/tmp/x')}, path)
    with pytest.raises(CheckpointError,
                       match=r'pickled pathlib\.PurePosixPath'):
        build_loaded(path)


def test_mmengine_resume_state_reads_or_names_the_torch_it_needs(tmp_path):
    """mmengine's message hub pickles getattr(HistoryBuffer, 'mean'): read
    from torch 2.6 (the release's number is the independent oracle here),
    refused naming the torch that reads it before."""
    hub = MessageHub.get_instance('resume-state-test')
    hub.update_scalar('train/loss', 0.25)
    path = tmp_path / 'iter_1.pth'
    torch.save({'message_hub': hub.state_dict(),
                'state_dict': random_weights()}, path)
    release = tuple(map(int, torch.__version__.split('.')[:2]))
    if release >= (2, 6):
        logs = read_checkpoint(path)['message_hub']['log_scalars']
        assert logs['train/loss'].mean() == 0.25
        return
    needs = (r'needs torch >= 2\.6 \(add_safe_globals of a \(function, '
             r'name\) pair\)' if release >= (2, 4) else NEEDS_TORCH_2_4)
    with pytest.raises(CheckpointError, match=needs):
        read_checkpoint(path)


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
