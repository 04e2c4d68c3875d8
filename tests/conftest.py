"""Session fixtures: the toy datasets, written once by tools/make_toy_data.py.
Shared helpers live in ``tests/helpers``."""
import functools
import http.server
import os
import threading

import pytest
import torch

# Without a GPU, Triton kernels run in its interpreter (must be set before
# triton is imported anywhere).
if not torch.cuda.is_available():
    os.environ.setdefault('TRITON_INTERPRET', '1')

from .helpers import (TOY_DET, TOY_SEG, run_tool, toy_ade_options,  # noqa: E402,E501
                      toy_coco_options, train_toy)


@pytest.fixture(scope='session')
def toy_ade(tmp_path_factory):
    """The toy ADE20K-layout dataset, written once per test session."""
    out = tmp_path_factory.mktemp('data') / 'toy_ade'
    run_tool('tools/make_toy_data.py', '--task', 'seg', '--out', str(out))
    return str(out)


@pytest.fixture(scope='session')
def toy_coco(tmp_path_factory):
    """The toy COCO-format dataset, written once per test session."""
    out = tmp_path_factory.mktemp('data') / 'toy_coco'
    run_tool('tools/make_toy_data.py', '--task', 'det', '--out', str(out))
    return str(out)


@pytest.fixture(scope='session')
def toy_det_checkpoint(toy_coco, tmp_path_factory):
    """The toy Mask R-CNN trained by tools/train.py, once per session."""
    work_dir = str(tmp_path_factory.mktemp('toy_coco_train'))
    return train_toy(TOY_DET, work_dir, *toy_coco_options(toy_coco))


@pytest.fixture(scope='session')
def toy_seg_training(toy_ade, tmp_path_factory):
    """The toy UperNet trained by tools/train.py, once per session: its
    work dir and last checkpoint."""
    work_dir = str(tmp_path_factory.mktemp('toy_ade_train'))
    return work_dir, train_toy(TOY_SEG, work_dir, *toy_ade_options(toy_ade))


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
