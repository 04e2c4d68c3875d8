"""tools/deploy/export_onnx.py: onnxruntime reproduces PyTorch's logits;
the export's parts (mmrep.apis.onnx) directly."""
import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmrep.apis import build_trained
from mmrep.apis.onnx import MatrixAdaptiveAvgPool2d, export_segmentor

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


def test_detector_configs_are_refused(tmp_path):
    proc = run_tool('tools/deploy/export_onnx.py',
                    'configs/mask_rcnn/replknet-tiny_toy-coco.py', 'x.pth',
                    str(tmp_path / 'x.onnx'), check=False)
    assert proc.returncode != 0 and 'segmentation configs' in proc.stdout


def test_matrix_pool_is_adaptive_average_pooling():
    """Exact for sizes the exporter refuses (not divisible by the output)."""
    x = torch.randn(2, 4, 16, 11, dtype=torch.float64)
    for out in (1, 2, 3, 6, (3, 4)):
        torch.testing.assert_close(MatrixAdaptiveAvgPool2d(out)(x),
                                   F.adaptive_avg_pool2d(x, out))


def test_export_names_what_it_covers(tmp_path):
    with pytest.raises(ValueError, match='segmentation configs.*mmdeploy'):
        export_segmentor('configs/mask_rcnn/replknet-tiny_toy-coco.py',
                         'x.pth', str(tmp_path / 'x.onnx'), (64, 64))
