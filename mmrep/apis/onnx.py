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

from mmrep.utils import read_config, task_of
from .deploy import build_trained


def pool_matrix(size, out, like):
    """(out, size) matrix averaging the windows adaptive_avg_pool takes:
    [floor(i * size / out), ceil((i + 1) * size / out))."""
    matrix = torch.zeros(out, size, dtype=like.dtype, device=like.device)
    for i in range(out):
        start, end = (i * size) // out, -(-(i + 1) * size // out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


class MatrixAdaptiveAvgPool2d(nn.Module):
    """adaptive_avg_pool2d as two matrix products: exact, and exportable to
    ONNX for any input size (the exporter only takes sizes divisible by the
    output size, e.g. not UperNet's 3x3 and 6x6 pools of a 16x16 map)."""

    def __init__(self, output_size):
        super().__init__()
        size = output_size
        self.output_size = (size, size) if isinstance(size, int) else size

    def forward(self, x):
        h, w = int(x.shape[-2]), int(x.shape[-1])  # fixed at export
        rows = pool_matrix(h, self.output_size[0], x)
        cols = pool_matrix(w, self.output_size[1], x)
        return rows @ x @ cols.t()


def exportable(module):
    """Swap every nn.AdaptiveAvgPool2d of ``module`` for the matrix form."""
    for name, child in module.named_children():
        if isinstance(child, nn.AdaptiveAvgPool2d):
            setattr(module, name, MatrixAdaptiveAvgPool2d(child.output_size))
        else:
            exportable(child)
    return module


class SegLogits(nn.Module):
    """backbone -> decode head -> logits at the input size."""

    def __init__(self, segmentor):
        super().__init__()
        self.backbone = segmentor.backbone
        self.decode_head = exportable(segmentor.decode_head)
        self.align_corners = segmentor.decode_head.align_corners

    def forward(self, x):
        logits = self.decode_head(self.backbone(x))
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
    dummy = torch.randn(2, 3, *shape)
    if osp.dirname(out):
        os.makedirs(osp.dirname(out), exist_ok=True)
    # the TorchScript exporter: torch >= 2.9 defaults to the new one, and
    # torch < 2.5 has no 'dynamo' argument (and only the TorchScript one)
    choice = (dict(dynamo=False) if 'dynamo' in inspect.signature(
        torch.onnx.export).parameters else {})
    torch.onnx.export(
        module, (dummy, ), out, input_names=['image'],
        output_names=['logits'], opset_version=opset,
        dynamic_axes=dict(image={0: 'batch'}, logits={0: 'batch'}),
        **choice)
    return module
