"""tools/deploy/export_onnx.py: onnxruntime reproduces PyTorch's logits;
the export's parts (mmrep.apis.onnx) directly."""
import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmrep.apis import build_trained
from mmrep.apis.onnx import (ExportableAdaptiveAvgPool2d, SegLogits,
                             export_segmentor)

from ..helpers import TOY_SEG, random_checkpoint, run_tool


def test_onnx_logits_match_pytorch_with_a_dynamic_batch(tmp_path):
    ckpt, out = str(tmp_path / 'model.pth'), str(tmp_path / 'model.onnx')
    random_checkpoint(TOY_SEG, ckpt)
    h, w = 64, 96  # UperNet pools 3x3 and 6x6 of a 2x3 map: not divisible
    proc = run_tool('tools/deploy/export_onnx.py', TOY_SEG, ckpt, out,
                    '--shape', str(h), str(w))
    assert 'dynamic N' in proc.stdout
    model = build_trained(Config.fromfile(TOY_SEG), ckpt)  # training form
    session = ort.InferenceSession(out)
    for batch in (1, 3):  # exported with 2
        x = torch.randn(batch, 3, h, w, generator=torch.Generator()
                        .manual_seed(batch))
        with torch.no_grad():
            ref = model.encode_decode(x, [dict(img_shape=(h, w))] * batch)
        got = session.run(None, {'image': x.numpy()})[0]
        assert got.shape == tuple(ref.shape)
        rel = np.linalg.norm(got - ref.numpy()) / np.linalg.norm(ref.numpy())
        assert rel < 1e-4, rel


def test_seg_logits_are_the_segmentors_channels_last(tmp_path):
    """The upsampled logits come channels_last (its fast upsample) and equal
    mmseg's encode_decode, which upsamples into NCHW."""
    ckpt = str(tmp_path / 'model.pth')
    random_checkpoint(TOY_SEG, ckpt)
    model = build_trained(Config.fromfile(TOY_SEG), ckpt)
    x = torch.randn(2, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = model.encode_decode(x, [dict(img_shape=(64, 96))] * 2)
        got = SegLogits(model).eval()(x)
    assert got.is_contiguous(memory_format=torch.channels_last)
    assert not ref.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)


def test_detector_configs_are_refused(tmp_path):
    proc = run_tool('tools/deploy/export_onnx.py',
                    'configs/mask_rcnn/replknet-tiny_toy-coco.py', 'x.pth',
                    str(tmp_path / 'x.onnx'), check=False)
    assert proc.returncode != 0 and 'segmentation configs' in proc.stdout


def test_exportable_pool_is_adaptive_average_pooling(tmp_path):
    """Exact for sizes the exporter refuses (not divisible by the output),
    traced (the form exported) and, exported once, in ONNX Runtime at other
    sizes; untraced it is PyTorch's op, which Dynamo traces in one graph."""
    import onnxruntime as ort
    for shape in ((2, 4, 16, 11), (1, 3, 5, 7), (1, 2, 2, 2)):
        x = torch.randn(*shape, dtype=torch.float64)
        for out in (1, 2, 3, 6, (3, 4)):
            traced = torch.jit.trace(ExportableAdaptiveAvgPool2d(out), x)
            assert 'cumsum' in str(traced.graph)
            torch.testing.assert_close(traced(x),
                                       F.adaptive_avg_pool2d(x, out))
    explained = torch._dynamo.explain(ExportableAdaptiveAvgPool2d(6))(x)
    assert explained.graph_break_count == 0, explained.break_reasons
    path = str(tmp_path / 'pool.onnx')
    torch.onnx.export(ExportableAdaptiveAvgPool2d(6), (torch.randn(
        1, 2, 16, 16), ), path, input_names=['x'], dynamo=False,
        dynamic_axes={'x': {2: 'h', 3: 'w'}}, opset_version=11)
    session = ort.InferenceSession(path)
    for h, w in ((16, 16), (13, 29), (6, 6)):
        x = torch.randn(1, 2, h, w)
        got = session.run(None, {'x': x.numpy()})[0]
        torch.testing.assert_close(torch.from_numpy(got),
                                   F.adaptive_avg_pool2d(x, 6),
                                   rtol=1e-5, atol=1e-5)


def test_export_names_what_it_covers(tmp_path):
    with pytest.raises(ValueError, match='segmentation configs.*mmdeploy'):
        export_segmentor('configs/mask_rcnn/replknet-tiny_toy-coco.py',
                         'x.pth', str(tmp_path / 'x.onnx'), (64, 64))
