"""demo/image_demo.py paints a toy image through mmseg's/mmdet's
inferencers."""
import glob
import os.path as osp

import cv2
import pytest

from ..helpers import (ROOT, TOY_DET, TOY_SEG, random_checkpoint,
                       run_tool)


@pytest.mark.parametrize('config, data', [(TOY_SEG, 'toy_ade'),
                                          (TOY_DET, 'toy_coco')])
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
