"""Re-parameterized (deploy) models: build a trained model, merge its
large-kernel branches, write the deploy checkpoint and config; compile a
model for CPU serving."""
import inspect
import os
import os.path as osp

import torch
from mmcv.cnn import fuse_conv_bn
from mmengine.logging import print_log
from mmengine.runner import load_checkpoint

from mmrep.ops import compat, heap, native
from mmrep.ops.heap import keep_large_maps
from mmrep.ops.onednn import frozen_graphs
from mmrep.utils import build_model, drop_pretrained, read_config


def build_trained(cfg, checkpoint):
    """The config's model with the checkpoint loaded strictly, in eval."""
    drop_pretrained(cfg.model)  # the checkpoint holds every weight
    model = build_model(cfg)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model.eval()


def reparameterize(config, checkpoint, out_dir, cfg_options=None,
                   fuse_bn=False):
    """Write ``<name>_deploy.pth`` and ``<name>_deploy.py`` into ``out_dir``
    and return their paths.

    Every block becomes its deploy form (RepLKNet: each large-kernel branch
    one biased conv; UniRepLKNet: every BN, GRN bias and layer scale folded
    too). With ``fuse_bn`` (RepLKNet) every other conv-BN pair of the
    backbone is fused as well (mmcv's ``fuse_conv_bn``), and the deploy
    config builds that form (``bn_fused=True``).
    """
    cfg = read_config(config, cfg_options)
    model = build_trained(cfg, checkpoint)
    backbone = type(model.backbone)
    if fuse_bn and 'bn_fused' not in inspect.signature(backbone).parameters:
        raise ValueError(
            f'fuse_bn (--fuse-conv-bn): {backbone.__name__}\'s deploy form '
            f'has no conv-BN pair left to fuse; run without it')
    model.backbone.switch_to_deploy()
    if fuse_bn:
        fuse_conv_bn(model.backbone)
    name = osp.splitext(osp.basename(config))[0]
    os.makedirs(out_dir, exist_ok=True)
    ckpt_path = osp.join(out_dir, f'{name}_deploy.pth')
    torch.save({'meta': dict(reparameterized_from=str(checkpoint)),
                'state_dict': model.state_dict()}, ckpt_path)
    cfg.model.backbone.deploy = True
    if fuse_bn:
        cfg.model.backbone.bn_fused = True
    cfg.load_from = ckpt_path
    cfg_path = osp.join(out_dir, f'{name}_deploy.py')
    cfg.dump(cfg_path)
    return cfg_path, ckpt_path


def _serving_guards():
    """torch.compile's options that drop Dynamo's guards on the modules;
    none on a torch without ``guard_filter_fn`` (said once, by
    :func:`mmrep.ops.compat.note_fallbacks`)."""
    compat.note_fallbacks()
    if not compat.HAS_GUARD_FILTER:
        return {}
    return dict(
        guard_filter_fn=torch.compiler.skip_guard_on_all_nn_modules_unsafe)


_malloc_hinted = []


def _hint_faster_malloc():
    """Say once, where glibc's malloc serves the compiled calls, what a
    preloaded allocator saves; whether it said it."""
    if _malloc_hinted or not heap.on_glibc() or heap.preloaded_malloc():
        return False
    _malloc_hinted.append(True)
    print_log('compile_for_cpu: glibc\'s malloc serves the objects PyTorch '
              'builds around each oneDNN call; tcmalloc or jemalloc in '
              'LD_PRELOAD takes up to a few ms off each call '
              '(docs/deployment.md, "A faster malloc for serving"; said '
              'once)', logger='current')
    return True


class CompiledForCPU:
    """What :func:`compile_for_cpu` returns: called like ``model``, it runs
    the compiled graph of each input shape (compiling it the first time)
    with inductor's freezing on for these calls only: Dynamo reads that
    setting when it traces (the parameters then become constants that
    inductor can prepack), so ``torch.compile``'s ``options`` cannot turn
    it on (UniRepLKNet-S, bfloat16, 1x224: 115 ms that way against 65).
    The graph's own code runs in C++ (inductor's ``cpp_wrapper``: ~2% of a
    RepLKNet-31B bfloat16 1x224 forward, a few seconds more to compile);
    large maps stay in the heap between calls
    (:func:`mmrep.ops.heap.keep_large_maps`). Dynamo checks the inputs and
    the global state (grad mode, autocast) at each call, not the model's
    modules: freezing has made their weights constants already, so the
    model must not change after compiling either way (RepLKNet-31B
    bfloat16 1x224: 1.4 ms a call, 3%; from torch 2.8, whose
    ``guard_filter_fn`` allows it).

    Args:
        model (nn.Module): The model compiled (``.model``).
        native_dwconv (bool): As :func:`compile_for_cpu`'s.
    """

    def __init__(self, model, native_dwconv=True):
        self.model = model
        # built and checked here, not while Dynamo traces
        self.native_dwconv = native_dwconv and native.load()
        _hint_faster_malloc()
        self._compiled = torch.compile(model, dynamic=False,
                                       options=_serving_guards())

    def __call__(self, *args, **kwargs):
        keep_large_maps()
        with torch._inductor.config.patch(freezing=True, cpp_wrapper=True), \
                frozen_graphs(), native.serving(self.native_dwconv):
            return self._compiled(*args, **kwargs)


def compile_for_cpu(model, native_dwconv=True):
    """``model`` compiled for CPU serving: ``torch.compile`` with inductor's
    freezing (the weights prepacked for oneDNN once, BNs, activations and
    residual adds fused into the convolutions, the elementwise chains into
    generated loops), the maps channels_last, one graph per input shape.

    Call the result under ``torch.no_grad()`` (freezing needs it) and, on
    CPUs with native bfloat16, under ``torch.autocast('cpu',
    torch.bfloat16)``. The first call of each input shape compiles (20-50 s
    for a backbone on 2 cores); torch.compile runs up to 8 shapes, then the
    eager forward. docs/deployment.md has the measured speeds.

    Args:
        model (nn.Module): In eval mode, best re-parameterized
            (``switch_to_deploy()`` or ``tools/deploy/reparameterize.py``).
        native_dwconv (bool): Run the large-kernel convolutions ('auto')
            on mmrep's AVX-512 kernel (:mod:`mmrep.ops.native`; built and
            checked at the first use on a machine) where it can run, else
            on oneDNN. Defaults to True.

    Returns:
        CompiledForCPU: Called like ``model``.
    """
    if model.training:
        raise ValueError('compile_for_cpu: the model is in training mode; '
                         'call model.eval() (and switch_to_deploy() on its '
                         'backbone) first')
    return CompiledForCPU(model, native_dwconv)
