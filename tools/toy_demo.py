"""The main job on embedded data (``make demo``): make the toy data, train
the tiny RepLKNet models with tools/train.py, test them with tools/test.py
(each a process of its own, as a user runs them), and compare with a
trivial baseline. It runs from a checkout (tools/ and the toy data maker
are not installed with the package).

The demo pins the large-kernel implementation in the configs
(``--impl``, default 'rows'): 'auto' chooses by timing, each choice rounds
float32 differently, and the tiny detection set turns those last bits into
different mAPs; pinned, a machine prints the same numbers every run."""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np

from mmrep.ops import IMPLS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))  # the checkout
SEG_CONFIG = 'configs/upernet/replknet-tiny_toy-ade.py'
DET_CONFIG = 'configs/mask_rcnn/replknet-tiny_toy-coco.py'


def run(cmd):
    print('$', ' '.join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def latest_test_metrics(work_dir):
    """Metrics of the latest tools/test.py run (mmengine's json log)."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.json')),
                  key=osp.getmtime)
    if not logs:
        raise FileNotFoundError(f'no test log under {work_dir}')
    with open(logs[-1]) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def majority_miou(data_root, num_classes=4):
    """mIoU (%) of predicting the most frequent training class everywhere,
    computed like mmseg's IoUMetric (labels after reduce_zero_label)."""
    def labels(split):
        for path in sorted(glob.glob(osp.join(data_root, 'annotations',
                                              split, '*.png'))):
            label = cv2.imread(path, cv2.IMREAD_UNCHANGED).astype(np.int64)
            yield label[label > 0] - 1  # 0 = unlabeled, ignored

    train_counts = sum(np.bincount(x, minlength=num_classes)
                       for x in labels('training'))
    majority = int(np.argmax(train_counts))
    gt = sum(np.bincount(x, minlength=num_classes)
             for x in labels('validation'))
    intersect = np.zeros(num_classes)
    intersect[majority] = gt[majority]
    union = gt.astype(float)
    union[majority] = gt.sum()  # every valid pixel is predicted majority
    iou = intersect / np.where(union > 0, union, np.nan)
    return float(np.nanmean(iou) * 100)


def train_and_test(py, task, config, work_dir, impl):
    """Make the toy data if absent, train, test; return the metrics."""
    data_root = osp.join(ROOT, 'data', 'toy_ade' if task == 'seg'
                         else 'toy_coco')
    if not osp.isdir(data_root):
        run([py, 'tools/make_toy_data.py', '--task', task, '--out',
             data_root])
    # the implementation set in the config, as a user sets it
    options = ['--cfg-options', f'model.backbone.large_kernel_impl={impl}']
    run([py, 'tools/train.py', config, '--work-dir', work_dir, *options])
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    test_dir = osp.join(work_dir, 'test')
    run([py, 'tools/test.py', config, checkpoint, '--work-dir', test_dir,
         *options])
    return latest_test_metrics(test_dir), data_root


def seg_demo(py, work_root, impl):
    metrics, data_root = train_and_test(py, 'seg', SEG_CONFIG,
                                        osp.join(work_root, 'toy_ade'), impl)
    miou = metrics['mIoU']
    baseline = majority_miou(data_root)
    print(f'\n[demo] toy ADE20K validation mIoU: {miou:.2f} '
          f'(majority-class predictor: {baseline:.2f}, '
          f'ratio {miou / baseline:.2f}x)\n', flush=True)
    return dict(mIoU=miou, majority_mIoU=baseline)


def det_demo(py, work_root, impl):
    metrics, _ = train_and_test(py, 'det', DET_CONFIG,
                                osp.join(work_root, 'toy_coco'), impl)
    bbox, segm = metrics['coco/bbox_mAP'], metrics['coco/segm_mAP']
    print(f'\n[demo] toy COCO validation (Mask R-CNN): bbox mAP {bbox:.3f}, '
          f'segm mAP {segm:.3f}\n', flush=True)
    return dict(bbox_mAP=bbox, segm_mAP=segm)


def run_demo(work_dir, json_path=None, impl='rows', python=sys.executable):
    """Both demos; the metrics, also written to ``json_path`` if given."""
    print(f"[demo] large-kernel convolutions: '{impl}' "
          f'(model.backbone.large_kernel_impl; pinned, so that the numbers '
          'repeat run to run)', flush=True)
    results = dict(seg=seg_demo(python, work_dir, impl),
                   det=det_demo(python, work_dir, impl))
    if json_path:
        os.makedirs(osp.dirname(osp.abspath(json_path)), exist_ok=True)
        with open(json_path, 'w') as f:
            json.dump(results, f, indent=2)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs',
                                                       'demo'))
    parser.add_argument('--impl', default='rows', choices=IMPLS,
                        help="the large-kernel implementation (default "
                        "'rows': the numbers repeat run to run)")
    parser.add_argument('--json', help='write the demo metrics here')
    args = parser.parse_args(argv)
    return run_demo(args.work_dir, args.json, args.impl)


if __name__ == '__main__':
    main()
