"""demo/image_demo.py paints a toy image through mmseg's/mmdet's
inferencers."""
import glob
import os.path as osp

import cv2
import pytest

from ..conftest import ROOT, run_tool
from .test_deploy import DET, SEG, random_checkpoint


@pytest.mark.parametrize('config, data', [(SEG, 'toy_ade'),
                                          (DET, 'toy_coco')])
def test_image_demo_writes_the_painted_image(config, data, request,
                                             tmp_path):
    root = request.getfixturevalue(data)
    image = sorted(glob.glob(osp.join(root, '**', '*.jpg'),
                             recursive=True))[0]
    ckpt = str(tmp_path / 'model.pth')
    random_checkpoint(config, ckpt)
    out = tmp_path / 'out.png'
    proc = run_tool(f'{ROOT}/demo/image_demo.py', image, config, ckpt,
                    '--out', str(out), '--score-thr', '0.0')
    assert f'wrote {out}' in proc.stdout
    painted, original = cv2.imread(str(out)), cv2.imread(image)
    assert painted.shape == original.shape
    assert (painted != original).any()
