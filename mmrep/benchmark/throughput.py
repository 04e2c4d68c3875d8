"""Model throughput (tools/benchmark.py): a training step and inference of
a backbone or a whole segmentor / detector on random inputs, in training
form and re-parameterized form."""
import contextlib
import time

import torch

from .timing import sync, time_ms


def synthetic_samples(model, batch, shape, device):
    """Random ground truth for a segmentor's or detector's loss."""
    h, w = shape
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w),
                batch_input_shape=(h, w), scale_factor=(1., 1.))
    if hasattr(model, 'decode_head'):
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        classes = model.decode_head.num_classes
        samples = [SegDataSample(metainfo=meta) for _ in range(batch)]
        for s in samples:
            s.gt_sem_seg = PixelData(
                data=torch.randint(0, classes, (1, h, w), device=device))
        return samples
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    samples = []
    for _ in range(batch):
        s = DetDataSample(metainfo=meta)
        box = torch.tensor([[w * .2, h * .2, w * .6, h * .7]], device=device)
        mask = torch.zeros(1, h, w, dtype=torch.uint8)
        mask[:, int(h * .2):int(h * .7), int(w * .2):int(w * .6)] = 1
        s.gt_instances = InstanceData(
            bboxes=box, labels=torch.zeros(1, dtype=torch.long,
                                           device=device),
            masks=BitmapMasks(mask.numpy(), h, w))
        samples.append(s)
    return samples


def loss_of(forward, x, samples):
    """The scalar a training step minimizes: ``forward`` is the backbone
    (any scalar of its outputs) or, with ``samples``, a segmentor's or
    detector's ``loss``."""
    if samples is None:
        out = forward(x)
        outs = out if isinstance(out, (tuple, list)) else [out]
        return sum(o.float().mean() for o in outs)
    losses = forward(x, samples)
    return sum(v.sum() for k, v in losses.items() if 'loss' in k
               for v in (v if isinstance(v, list) else [v]))


def first_call_s(fn, device, clock=time.perf_counter):
    """Seconds of one call of ``fn`` (under torch.compile: the compilation
    and one run)."""
    sync(device)
    start = clock()
    fn()
    sync(device)
    return clock() - start


def measure(name, model, batch, shape, device, whole_model=False, amp=False,
            warmup=3, repeats=10, timer=time_ms, compile=False,
            compiler=torch.compile):
    """Throughput of ``model`` on random inputs: a training step (forward,
    backward, SGD step), inference, and inference after
    ``switch_to_deploy`` where the backbone has it.

    Args:
        name (str): The row's model name.
        model (nn.Module): A backbone, or a whole segmentor / detector
            (``whole_model``: its loss on synthetic ground truth is trained).
        batch (int): Images per step.
        shape (tuple[int]): (H, W).
        device (torch.device): Where to run.
        whole_model (bool): ``model`` is a segmentor or detector.
        amp (bool): bfloat16 autocast.
        warmup, repeats (int): Passed to ``timer``.
        timer (callable): ``timer(fn, device, warmup, repeats)`` -> median
            milliseconds of ``fn()``. Defaults to :func:`time_ms`.
        compile (bool): Run the forward passes under ``torch.compile``;
            the first call of each (compilation included) is timed apart,
            as ``compile_s``, ``infer_compile_s`` and
            ``infer_deploy_compile_s``.
        compiler (callable): What compiles a forward. Defaults to
            ``torch.compile``.

    Returns:
        dict: A row: times (ms), images/s and peak training memory (GB, on
        GPUs).
    """
    h, w = shape
    model = model.to(device).train()
    x = torch.randn(batch, 3, h, w, device=device)
    samples = (synthetic_samples(model, batch, (h, w), device)
               if whole_model else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
    autocast = (torch.autocast(device.type, dtype=torch.bfloat16)
                if amp else contextlib.nullcontext())
    wrap = compiler if compile else (lambda fn: fn)
    forward = wrap(model.loss if whole_model else model)
    infer_forward = wrap(model)
    row = dict(model=name, batch=batch, shape=f'{h}x{w}', amp=amp,
               compiled=compile)

    def train_step():
        with autocast:
            loss = loss_of(forward, x, samples)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def infer():
        with torch.no_grad(), autocast:
            (infer_forward(x) if not whole_model else
             infer_forward(x, samples, mode='tensor'))

    def timed(fn, kind):
        if compile:
            row[kind.replace('train_', '') + 'compile_s'] = first_call_s(
                fn, device)
        row[f'{kind}ms'] = timer(fn, device, warmup, repeats)
        row[f'{kind}img_s'] = batch / row[f'{kind}ms'] * 1e3

    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    timed(train_step, 'train_')
    row['peak_train_mem_gb'] = (torch.cuda.max_memory_allocated(device) /
                                2**30 if device.type == 'cuda' else None)
    model.eval()
    timed(infer, 'infer_')
    backbone = getattr(model, 'backbone', model)
    if hasattr(backbone, 'switch_to_deploy'):
        backbone.switch_to_deploy()
        timed(infer, 'infer_deploy_')
    return row
