"""ONNX export of a segmentor's re-parameterized backbone + decode head:
the exported graph maps an (N, 3, H, W) normalized image batch to the
decode head's logits resized to H x W (dynamic batch size), i.e. what
mmseg's ``EncoderDecoder`` computes before the arg-max."""
import inspect
import os
import os.path as osp

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.utils import _pair

from mmrep.utils import read_config, task_of
from .deploy import build_trained


def _pool_dim(x, out, dim):
    """Adaptive average pooling of ``x`` along ``dim`` to ``out`` windows
    [floor(i * size / out), ceil((i + 1) * size / out)), as differences
    of a cumulative sum; ``size`` is read as a tensor, so a traced graph
    follows the input size at run time."""
    size = torch._shape_as_tensor(x)[dim].to(x.device)
    i = torch.arange(out + 1, device=x.device)
    start = (i[:-1] * size) // out
    end = (i[1:] * size + out - 1) // out
    cum = torch.cat([torch.zeros_like(x.narrow(dim, 0, 1)),
                     x.cumsum(dim)], dim)
    sums = cum.index_select(dim, end) - cum.index_select(dim, start)
    shape = [1] * x.dim()
    shape[dim] = out
    return sums / (end - start).to(x.dtype).view(shape)


def adaptive_avg_pool2d(x, output_size):
    """``F.adaptive_avg_pool2d`` (N, C, H, W), exportable to ONNX for any
    size and exact: the exporters take only sizes divisible by the output
    size (not UperNet's 3x3 and 6x6 pools of a 512 image's 16x16 map), and
    MMDeploy's rewrite computes other windows there. Outside an ONNX trace
    (eager, ``torch.compile``, whose Dynamo cannot trace the size read as
    a tensor) PyTorch's own op computes the same windows."""
    if not torch.jit.is_tracing():  # ATen's op: MMDeploy may rewrite F's
        return torch._C._nn.adaptive_avg_pool2d(x, _pair(output_size))
    out_h, out_w = _pair(output_size)
    return _pool_dim(_pool_dim(x, out_h, 2), out_w, 3)


class ExportableAdaptiveAvgPool2d(nn.Module):
    """nn.AdaptiveAvgPool2d through :func:`adaptive_avg_pool2d`."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = _pair(output_size)

    def forward(self, x):
        return adaptive_avg_pool2d(x, self.output_size)


def exportable(module):
    """Swap every nn.AdaptiveAvgPool2d of ``module`` for the exportable
    form."""
    for name, child in module.named_children():
        if isinstance(child, nn.AdaptiveAvgPool2d):
            setattr(module, name,
                    ExportableAdaptiveAvgPool2d(child.output_size))
        else:
            exportable(child)
    return module


class SegLogits(nn.Module):
    """backbone -> decode head -> logits at the input size, channels_last in
    memory (values as NCHW's): the upsample then runs along the classes, 2x
    faster eager and 14x compiled than into NCHW (150 classes 128 -> 512)."""

    def __init__(self, segmentor):
        super().__init__()
        self.backbone = segmentor.backbone
        self.decode_head = exportable(segmentor.decode_head)
        self.align_corners = segmentor.decode_head.align_corners

    def forward(self, x):
        logits = self.decode_head(self.backbone(x))
        logits = logits.contiguous(memory_format=torch.channels_last)
        return F.interpolate(logits, size=x.shape[2:], mode='bilinear',
                             align_corners=self.align_corners)


def export_segmentor(config, checkpoint, out, shape, opset=17,
                     cfg_options=None):
    """Write the re-parameterized backbone + decode head of a trained
    segmentor to ONNX at ``out``: input ``image`` (N, 3, H, W) at
    ``shape`` = (H, W) with a dynamic N, output ``logits`` at H x W.
    Returns the exported module."""
    cfg = read_config(config, cfg_options)
    if task_of(cfg) != 'seg':
        raise ValueError(f'{config}: ONNX export covers segmentation configs '
                         f'(backbone + decode head); use mmdeploy for '
                         f'detectors')
    model = build_trained(cfg, checkpoint)
    model.backbone.switch_to_deploy()
    module = SegLogits(model).eval()
    export_onnx(module, torch.randn(2, 3, *shape), out, ['logits'], opset)
    return module


def export_onnx(module, image, out, output_names, opset=17):
    """``torch.onnx.export`` of ``module(image)`` to ``out`` with the
    TorchScript exporter (torch >= 2.9 defaults to the new one; torch < 2.5
    has only this one and no 'dynamo' argument): input ``image`` with a
    dynamic batch size, outputs ``output_names``."""
    if osp.dirname(out):
        os.makedirs(osp.dirname(out), exist_ok=True)
    choice = (dict(dynamo=False) if 'dynamo' in inspect.signature(
        torch.onnx.export).parameters else {})
    torch.onnx.export(
        module, (image, ), out, input_names=['image'],
        output_names=output_names, opset_version=opset,
        dynamic_axes={n: {0: 'batch'} for n in ['image'] + output_names},
        **choice)
