"""What a training config amounts to on a number of GPUs, and how to keep it
the same on another number.

A recipe is defined by the images per optimizer step (GPUs x images per GPU
x ``optim_wrapper.accumulative_counts``), the total training images and the
share of warm-up. mmengine counts iterations (one batch per GPU), not
optimizer steps, so moving a recipe from 8 GPUs to 64 divides the
accumulation by 8 and every count kept in iterations (length, warm-up,
evaluation and checkpoint intervals) by 8 too.
"""
import re
from fractions import Fraction

GPUS_X_BATCH = re.compile(r'_(\d+)xb(\d+)-')


def gpus_of(config_path):
    """The GPU count in an OpenMMLab config name (``..._8xb2-...``)."""
    match = GPUS_X_BATCH.search(str(config_path))
    if match is None:
        raise ValueError(
            f'config {config_path}: its name does not say the GPU count '
            f'(OpenMMLab names read "_<GPUs>xb<images per GPU>-"); give '
            f'the number of GPUs the config was written for')
    return int(match.group(1))


def accumulation(cfg):
    return cfg.optim_wrapper.get('accumulative_counts', 1)


def iteration_based(cfg):
    return cfg.train_cfg.get('type') == 'IterBasedTrainLoop'


def summarize(cfg, gpus):
    """The recipe of ``cfg`` run on ``gpus`` GPUs, as plain numbers."""
    batch = cfg.train_dataloader.batch_size
    accum = accumulation(cfg)
    summary = dict(gpus=gpus, images_per_gpu=batch,
                   accumulative_counts=accum,
                   images_per_step=gpus * batch * accum,
                   lr=cfg.optim_wrapper.optimizer.lr)
    if iteration_based(cfg):
        iters = cfg.train_cfg.max_iters
        summary.update(iterations=iters, optimizer_steps=iters / accum,
                       training_images=iters * gpus * batch)
        warmup = [s for s in cfg.param_scheduler
                  if s.get('begin', 0) == 0 and s['end'] < iters]
        if warmup:
            summary['warmup_fraction'] = warmup[0]['end'] / iters
    else:
        summary['epochs'] = cfg.train_cfg.max_epochs
    return summary


def _iteration_counts(cfg):
    """(option key, value) of every count kept in iterations."""
    if iteration_based(cfg):
        yield 'train_cfg.max_iters', cfg.train_cfg.max_iters
        if 'val_interval' in cfg.train_cfg:
            yield 'train_cfg.val_interval', cfg.train_cfg.val_interval
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint') or {}
    if checkpoint.get('by_epoch') is False and 'interval' in checkpoint:
        yield 'default_hooks.checkpoint.interval', checkpoint['interval']
    for i, scheduler in enumerate(cfg.param_scheduler):
        if scheduler.get('by_epoch', True):
            continue
        for key in ('begin', 'end'):
            if scheduler.get(key):
                yield f'param_scheduler.{i}.{key}', scheduler[key]


def rescale(cfg, from_gpus, gpus, images_per_gpu=None):
    """``--cfg-options`` that run the recipe of ``cfg`` (written for
    ``from_gpus`` GPUs) on ``gpus`` GPUs with the same images per optimizer
    step, training images, learning rate and warm-up share.

    Returns a dict ``{option: value}``; raises ValueError when the images
    per step cannot be split evenly over ``gpus`` x ``images_per_gpu``.
    """
    batch = cfg.train_dataloader.batch_size
    images_per_gpu = images_per_gpu or batch
    per_step = from_gpus * batch * accumulation(cfg)
    per_iter = gpus * images_per_gpu
    if gpus < 1 or images_per_gpu < 1 or per_step % per_iter:
        raise ValueError(
            f'{gpus} GPUs x {images_per_gpu} images per GPU cannot make the '
            f"recipe's {per_step} images per optimizer step: choose GPUs x "
            f'images per GPU that divide {per_step} (more images per '
            f'iteration than that change the recipe itself)')
    accum = per_step // per_iter
    factor = Fraction(accum, accumulation(cfg))
    options = {'optim_wrapper.accumulative_counts': accum}
    if images_per_gpu != batch:
        options['train_dataloader.batch_size'] = images_per_gpu
    for key, value in _iteration_counts(cfg):
        options[key] = round(value * factor)
    return options


def format_options(options):
    """``options`` as the text to put after ``--cfg-options``."""
    return ' '.join(f'{key}={value}' for key, value in options.items())
