"""Variable-shape workloads (tools/benchmark_shapes.py): whole-image
segmentation testing and multi-scale detection training, where nearly
every image brings a new size, run through the real mmseg / mmdet paths.

Each run times the whole workload, first calls included, and records what
'auto' measured and the process's peak memory (resident set on the CPU,
``max_memory_allocated`` on a GPU)."""
import copy
import random
import resource
import time

import numpy as np
import torch

from ..ops import DISPATCHER
from .timing import sync

LOADING = ('LoadImageFromFile', 'LoadAnnotations')


def ade20k_sizes(count, seed=0):
    """(H, W) of ``count`` ADE20K-like test images: short side 512 (what
    the test pipeline resizes to), long side a multiple of 32 in
    512..1024, either orientation."""
    rng = random.Random(seed)
    sizes = []
    for _ in range(count):
        long_side = 32 * rng.randint(16, 32)
        sizes.append((512, long_side) if rng.random() < .5 else
                     (long_side, 512))
    return sizes


def coco_like_sizes(count, seed=0):
    """(H, W) of ``count`` COCO-like raw images: long side 640 (as most of
    COCO's), short side 360..640, either orientation. The pipelines under
    test then rescale, crop and pad them."""
    rng = random.Random(seed)
    sizes = []
    for _ in range(count):
        short = rng.randint(360, 640)
        sizes.append((short, 640) if rng.random() < .7 else (640, short))
    return sizes


def _synthetic(shape, seed, detection):
    """A loaded image and its annotations, as the ``Load*`` transforms give
    them: one object (box and mask) or an all-background label map."""
    h, w = shape
    rng = np.random.default_rng(seed)
    results = dict(img=rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
                   img_shape=(h, w), ori_shape=(h, w), img_id=seed,
                   img_path=f'synthetic_{seed}.jpg')
    if not detection:
        return dict(results, gt_seg_map=np.zeros((h, w), dtype=np.uint8),
                    seg_fields=['gt_seg_map'], reduce_zero_label=True)
    from mmdet.structures.bbox import HorizontalBoxes
    from mmdet.structures.mask import BitmapMasks
    mask = np.zeros((1, h, w), dtype=np.uint8)
    mask[:, int(h * .2):int(h * .8), int(w * .2):int(w * .7)] = 1
    box = np.array([[w * .2, h * .2, w * .7, h * .8]], dtype=np.float32)
    return dict(results, gt_bboxes=HorizontalBoxes(box),
                gt_bboxes_labels=np.zeros(1, dtype=np.int64),
                gt_ignore_flags=np.zeros(1, dtype=bool),
                gt_masks=BitmapMasks(mask, h, w))


def pipeline_samples(pipeline_cfg, sizes, detection, seed=0):
    """Run a config's data pipeline (all but its loading transforms) on
    synthetic images of ``sizes``: the sizes and samples its random
    resizing and cropping really produce."""
    from mmcv.transforms import Compose
    from mmengine.registry import DefaultScope
    transforms = [t for t in copy.deepcopy(pipeline_cfg)
                  if t['type'] not in LOADING]
    with DefaultScope.overwrite_default_scope(
            'mmdet' if detection else 'mmseg'):
        pipeline = Compose(transforms)
    random.seed(seed)
    np.random.seed(seed)
    return [pipeline(_synthetic(shape, seed + i, detection))
            for i, shape in enumerate(sizes)]


def batches(samples, size):
    """``samples`` as the dataloader's ``pseudo_collate`` batches them."""
    from mmengine.dataset import pseudo_collate
    return [pseudo_collate(samples[i:i + size])
            for i in range(0, len(samples), size)]


def padded_shapes(model, data, training):
    """The (H, W) each batch reaches the backbone at, after the model's data
    preprocessor (a training batch is padded to its largest image)."""
    with torch.no_grad():
        return [tuple(model.data_preprocessor(batch, training)['inputs'].
                      shape[-2:]) for batch in data]


def peak_memory_mb(device):
    """The process's peak so far: resident set (CPU) or allocated (CUDA)."""
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def run_workload(step, data, device, clock=time.perf_counter):
    """Call ``step(batch)`` for each batch; seconds per call, in order."""
    seconds = []
    for batch in data:
        sync(device)
        start = clock()
        step(batch)
        sync(device)
        seconds.append(clock() - start)
    return seconds


def auto_summary():
    """What 'auto' did in this process: buckets decided and measured,
    seconds spent measuring and checking, and its choices."""
    return dict(buckets=len(DISPATCHER.choices),
                measured=sum(map(len, DISPATCHER.measured.values())),
                measuring_s=DISPATCHER.spent_s,
                choices=dict(DISPATCHER.choices),
                rejected=dict(DISPATCHER.rejected))


def preset_decisions(choices):
    """Give 'auto' the decisions of an earlier run: it then runs them
    without measuring (to tell the measuring's cost from the rest)."""
    DISPATCHER.reset()
    DISPATCHER.choices.update(choices)
    DISPATCHER.timings.update({k: {v: 0.} for k, v in choices.items()})


def median_run(runs):
    """The run of one implementation whose total is the median of its
    rounds (the lower one of an even count: a run that happened), with
    every round's total in ``runs_s``."""
    ordered = sorted(runs, key=lambda run: run['total_s'])
    row = dict(ordered[(len(ordered) - 1) // 2])
    row['runs_s'] = [run['total_s'] for run in runs]
    return row
