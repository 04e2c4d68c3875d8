"""What the tests share: paths, running the tools as processes, a tiny
RepLKNet, random 'trained' weights, the shipped configs and their shrunken
forms, and the check that a training step updates every parameter it
trains."""
import argparse
import contextlib
import glob
import os
import os.path as osp
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from torch.nn.modules.batchnorm import _BatchNorm

from mmrep.analysis.complexity import num_params
from mmrep.models import RepLKNet
from mmrep.ops import triton_interpreter_available
from mmrep.utils import replace_sync_bn

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_ARCH = dict(large_kernel_sizes=[7, 7, 5, 5], layers=[1, 1, 1, 1],
                 channels=[8, 16, 32, 64], small_kernel=3, dw_ratio=1)
TOY_SEG = f'{ROOT}/configs/upernet/replknet-tiny_toy-ade.py'
TOY_DET = f'{ROOT}/configs/mask_rcnn/replknet-tiny_toy-coco.py'

# The Triton kernels run on a GPU, or on the CPU in Triton's interpreter
# (TRITON_INTERPRET=1, set by tests/conftest.py without a GPU), which
# Triton < 3.0 (torch 2.1's) does not have.
needs_triton = pytest.mark.skipif(
    not torch.cuda.is_available() and not (
        os.environ.get('TRITON_INTERPRET') == '1'
        and triton_interpreter_available()),
    reason='no GPU, and no Triton with a CPU interpreter under '
    'TRITON_INTERPRET=1')


# ------------------------------------------------------------- processes
def run_tool(*args, env=None, timeout=1200, check=True):
    """Run a command from the repo root with this interpreter; return the
    CompletedProcess (stdout and stderr merged into stdout)."""
    cmd = [a if not a.endswith('.py') or osp.isabs(a) else osp.join(ROOT, a)
           for a in args]
    if cmd[0].endswith('.py'):
        cmd = [sys.executable] + cmd
    proc = subprocess.run(cmd, cwd=ROOT, env=env, timeout=timeout, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if check and proc.returncode != 0:
        raise AssertionError(f'{cmd} exited {proc.returncode}:\n'
                             f'{proc.stdout[-6000:]}')
    return proc


def train_toy(config, work_dir, *options):
    """Train ``config`` with tools/train.py; return its last checkpoint."""
    run_tool('tools/train.py', config, '--work-dir', work_dir,
             '--cfg-options', *options)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _model_configs_in(folder):
    """The model configs of configs/<folder> (a glob): not the _base_ files
    nor configs/deploy (MMDeploy's deploy configs)."""
    paths = sorted(glob.glob(osp.join(ROOT, 'configs', folder, '*.py')))
    return [p for p in paths
            if osp.basename(osp.dirname(p)) not in ('_base_', 'deploy')]


def model_configs():
    """Every model config shipped, the toy ones and former names too."""
    return _model_configs_in('*')


def toy_ade_options(root):
    """--cfg-options that point the toy segmentation config at ``root``."""
    return [f'{split}_dataloader.dataset.data_root={root}'
            for split in ('train', 'val', 'test')]


def toy_coco_options(root):
    """--cfg-options that point the toy detection config at ``root``."""
    root = root.rstrip('/') + '/'
    return ([f'{split}_dataloader.dataset.data_root={root}'
             for split in ('train', 'val', 'test')] +
            [f'{split}_evaluator.ann_file={root}annotations/'
             'instances_val.json' for split in ('val', 'test')])


def free_port():
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- weights
def assert_checkpointing_keeps_gradients(build):
    """``build(with_cp)`` makes a backbone; with gradient checkpointing it
    computes the same parameter gradients as without."""
    torch.manual_seed(0)
    plain, cp_model = build(False), build(True)
    cp_model.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 64, 64)
    for model in (plain, cp_model):
        sum(o.sum() for o in model(x)).backward()
    for (name, a), b in zip(plain.named_parameters(), cp_model.parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def randomize_bn(model, seed=0):
    """Random affine parameters and running statistics for every BN."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=gen) * 0.5 + 0.5
            m.bias.data = torch.randn(n, generator=gen) * 0.1
            m.running_mean = torch.randn(n, generator=gen) * 0.1
            m.running_var = torch.rand(n, generator=gen) * 0.5 + 0.75


def random_weights(**kwargs):
    """A tiny RepLKNet's state dict with random values in [0.5, 1.5)."""
    torch.manual_seed(1)
    source = RepLKNet(arch=TINY_ARCH, **kwargs)
    for tensor in source.state_dict().values():
        if tensor.is_floating_point():
            tensor.copy_(torch.rand_like(tensor) + 0.5)
    return source.state_dict()


def official_imagenet(weights):
    """The official release: backbone keys plus the classifier's norm/head."""
    sd = dict(weights)
    c = TINY_ARCH['channels'][-1]
    sd.update({'norm.weight': torch.ones(c), 'norm.bias': torch.zeros(c),
               'norm.running_mean': torch.zeros(c),
               'norm.running_var': torch.ones(c),
               'head.weight': torch.zeros(1000, c),
               'head.bias': torch.zeros(1000)})
    return sd


def build_loaded(path, **kwargs):
    """A tiny RepLKNet initialized from ``path`` through init_cfg."""
    model = RepLKNet(arch=TINY_ARCH, init_cfg=dict(type='Pretrained',
                                                   checkpoint=str(path)),
                     **kwargs)
    model.init_weights()
    return model


def assert_loaded(model, weights):
    own = model.state_dict()
    for key, value in weights.items():
        torch.testing.assert_close(own[key], value, msg=key)


# Files holding numpy scalars or an argparse.Namespace (the official
# training script's, mmcv 1.x downstream ones) are read weights-only from
# torch 2.4 (add_safe_globals); an older torch refuses them, naming it.
READS_SAFE_TYPES = hasattr(torch.serialization, 'add_safe_globals')
NEEDS_TORCH_2_4 = (r'needs torch >= 2\.4 '
                   r'\(torch\.serialization\.add_safe_globals\)')


@contextlib.contextmanager
def read_or_refused_by_old_torch():
    """The block reads such a file: on a torch that cannot, it must stop at
    mmrep's refusal naming the torch it needs."""
    if READS_SAFE_TYPES:
        yield
        return
    from mmrep.checkpoint import CheckpointError
    with pytest.raises(CheckpointError, match=NEEDS_TORCH_2_4):
        yield


def training_script_checkpoint(path, model, ema):
    """As the official ImageNet training scripts save (ConvNeXt's main.py):
    the state dicts ``model`` and ``model_ema``, optimizer, AMP scaler,
    epoch and the argparse Namespace."""
    args = argparse.Namespace(model='RepLKNet-31B', drop_path=0.3, lr=4e-3,
                              batch_size=64, data_path='/data/imagenet',
                              model_ema=True, use_checkpoint=True,
                              input_size=224, output_dir='output/31b')
    torch.save({'model': model, 'model_ema': ema,
                'optimizer': {'state': {0: {'step': torch.tensor(10.),
                                            'exp_avg': torch.zeros(3)}},
                              'param_groups': [{'lr': 4e-3, 'params': [0],
                                                'betas': (0.9, 0.999)}]},
                'epoch': 299,
                'scaler': {'scale': 65536.0, 'growth_factor': 2.0,
                           'backoff_factor': 0.5, 'growth_interval': 2000,
                           '_growth_tracker': 7},
                'args': args}, path)


def mmcv1_downstream_checkpoint(path, weights, heads=None):
    """As mmcv 1.x saves a downstream model (the official UperNet, FCOS and
    Cascade checkpoints): meta with config text, classes, palette and numpy
    scalars, the state dict (backbone ``weights`` and the ``heads``' ones,
    already prefixed), and the optimizer's state."""
    torch.save({
        'meta': {'mmcv_version': '1.4.2', 'env_info': 'sys.platform: linux',
                 'config': "norm_cfg = dict(type='SyncBN')\nmodel = ...",
                 'seed': np.int64(0), 'exp_name': 'upernet.py',
                 'CLASSES': ('wall', 'building'), 'PALETTE': [[120] * 3] * 2,
                 'epoch': 1, 'iter': 40000, 'time': 'Mon Mar 14 2022',
                 'hook_msgs': {'last_ckpt': 'iter_40000.pth',
                               'best_score': np.float64(0.4991),
                               'best_ckpt': 'best_mIoU_iter_38000.pth'}},
        'state_dict': {**{f'backbone.{k}': v for k, v in weights.items()},
                       **(heads or {})},
        'optimizer': {'state': {}, 'param_groups': [
            {'lr': 0.0, 'betas': (0.9, 0.999), 'weight_decay': 0.05,
             'params': list(range(3))}]}}, path)


def random_checkpoint(config, path):
    """A 'trained' model of ``config``: random weights and BN statistics."""
    cfg = Config.fromfile(config)
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    randomize_bn(model)
    torch.save({'state_dict': model.state_dict()}, path)


# ---------------------------------------------------------------- configs
# Former names of the segmentation configs, kept as one-line children of
# the OpenMMLab-named ones (tests build only the latter).
RENAMED = {
    'upernet/replknet31b_ade20k.py':
    'upernet/upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py',
    'upernet/replknet31b-in22k_ade20k-640.py':
    'upernet/upernet_replknet31b-in22k_8xb2-accum8-320k_ade20k-640x640.py',
    'upernet/replknet31l-in22k_ade20k-640.py':
    'upernet/upernet_replknet31l-in22k_8xb1-accum8-640k_ade20k-640x640.py',
    'upernet/replknetxl_ade20k-640.py':
    'upernet/upernet_replknetxl_8xb2-accum2-320k_ade20k-640x640.py',
    'upernet/replknet31b_cityscapes.py':
    'upernet/upernet_replknet31b_8xb2-accum4-80k_cityscapes-769x769.py',
}


def configs(folder, exclude='toy'):
    """The configs of ``configs/<folder>``, without toys and former names."""
    return [p for p in _model_configs_in(folder)
            if exclude not in osp.basename(p) and
            osp.relpath(p, osp.join(ROOT, 'configs')) not in RENAMED]


def config_id(path):
    return osp.basename(path)


def load(path):
    return Config.fromfile(path)


def build(cfg):
    """The config's model, as built (SyncBN kept), in its default scope."""
    init_default_scope(cfg.default_scope)
    return MODELS.build(cfg.model)


def tiny_backbone_arch(arch):
    """TINY_ARCH with the paper arch's small_kernel / dw_ratio kept."""
    settings = RepLKNet.arch_settings[arch] if isinstance(arch, str) else arch
    small_kernel = 3 if settings['small_kernel'] else None
    return dict(TINY_ARCH, small_kernel=small_kernel,
                dw_ratio=settings['dw_ratio'])


def shrink_backbone(cfg):
    """Replace the paper backbone by a tiny one of the same kind (RepLKNet
    or UniRepLKNet); keep every other setting of the config (with_cp,
    drop_path, norms, heads' types). Returns its output channels."""
    backbone = cfg.model.backbone
    backbone.init_cfg = None
    replace_sync_bn(cfg.model)
    if backbone.type == 'UniRepLKNet':
        from .unireplknet import TINY_UNI_ARCH  # imports this module
        backbone.arch = dict(TINY_UNI_ARCH)
        return TINY_UNI_ARCH['dims']
    assert backbone.type == 'RepLKNet', backbone.type
    backbone.arch = tiny_backbone_arch(backbone.arch)
    return TINY_ARCH['channels']


def meta_params(cfg, without=()):
    """Parameters of the config's model (built on the meta device: no
    memory, no init), without the named top-level parts."""
    cfg.model.backbone.init_cfg = None
    with torch.device('meta'):
        model = build(cfg)
    return num_params(model) - sum(num_params(getattr(model, name))
                                   for name in without)


def narrow_detector_heads(cfg, width=32):
    """Narrow a two-stage detector's neck, RPN and RoI heads to ``width``
    channels: the same parts and types, trained or counted in seconds."""
    model = cfg.model
    model.neck.out_channels = width
    model.rpn_head.update(in_channels=width, feat_channels=width)
    roi = model.roi_head
    roi.bbox_roi_extractor.out_channels = width
    roi.mask_roi_extractor.out_channels = width
    bbox_heads = (roi.bbox_head if isinstance(roi.bbox_head, list)
                  else [roi.bbox_head])
    for head in bbox_heads:
        head.update(in_channels=width, fc_out_channels=2 * width)
        if head.get('num_shared_convs'):
            head.conv_out_channels = width
    roi.mask_head.update(in_channels=width, conv_out_channels=width)


# --------------------------------------------------------------- training
def train_step_updating_every_parameter(model, optim_wrapper, data):
    """``model.train_step`` once; assert that every parameter with a
    non-zero gradient was changed by the optimizer step, and that every
    trainable backbone parameter received a gradient (zero where drop-path
    dropped its block for the whole batch). Returns the log variables."""
    before = {n: p.detach().clone() for n, p in model.named_parameters()
              if p.requires_grad}
    received, nonzero = set(), set()
    step = optim_wrapper.step

    def recording_step(**kwargs):  # gradients are gone after the step
        for name, param in model.named_parameters():
            if param.grad is not None:
                received.add(name)
                if param.grad.any():
                    nonzero.add(name)
        return step(**kwargs)

    optim_wrapper.step = recording_step
    try:
        log_vars = model.train_step(data, optim_wrapper)
    finally:
        del optim_wrapper.step
    assert torch.isfinite(log_vars['loss'])
    assert nonzero, 'the optimizer stepped without gradients'
    params = dict(model.named_parameters())
    unchanged = sorted(n for n in nonzero
                       if torch.equal(before[n], params[n].detach()))
    assert not unchanged, f'not updated by the step: {unchanged}'
    backbone = {f'backbone.{n}' for n, p in model.backbone.named_parameters()
                if p.requires_grad}
    assert backbone <= received, f'no gradient: {sorted(backbone - received)}'
    return log_vars
