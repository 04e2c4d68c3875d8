"""Model throughput: training step (forward + backward + SGD step) and
inference images/s, in training form and re-parameterized (deploy) form,
and peak training memory, for a config's backbone alone or its whole
segmentor/detector, once per large-kernel implementation; optionally timm's
ConvNeXt-B and Swin-B side by side. Writes JSON and a markdown table.

  python tools/benchmark.py \
      configs/upernet/upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py \
      --backbone-only --batch 4 --shape 224 224 --impls torch auto \
      --json work_dirs/bench/model.json --md work_dirs/bench/model.md
"""
import argparse
import contextlib
import copy

import torch
from mmengine.config import Config, DictAction

from mmrep.benchmark import environment, time_ms, write_results
from mmrep.ops import IMPLS
from mmrep.utils import build_model

COLUMNS = ['model', 'impl', 'batch', 'shape', 'amp', 'train_img_s',
           'infer_img_s', 'infer_deploy_img_s', 'peak_train_mem_gb']
TIMM_MODELS = ('convnext_base', 'swin_base_patch4_window7_224')


def build(cfg, backbone_only, impl):
    cfg = copy.deepcopy(cfg)
    cfg.model.backbone.pop('init_cfg', None)
    if impl:
        cfg.model.backbone.large_kernel_impl = impl
    return build_model(cfg, backbone_only)


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


def loss_of(model, x, samples):
    if samples is None:  # a backbone: any scalar of its outputs
        out = model(x)
        outs = out if isinstance(out, (tuple, list)) else [out]
        return sum(o.float().mean() for o in outs)
    losses = model.loss(x, samples)
    return sum(v.sum() for k, v in losses.items() if 'loss' in k
               for v in (v if isinstance(v, list) else [v]))


def measure(name, model, args, device, whole_model):
    batch, (h, w) = args.batch, args.shape
    model = model.to(device).train()
    x = torch.randn(batch, 3, h, w, device=device)
    samples = (synthetic_samples(model, batch, (h, w), device)
               if whole_model else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
    autocast = (torch.autocast(device.type, dtype=torch.bfloat16)
                if args.amp else contextlib.nullcontext())

    def train_step():
        with autocast:
            loss = loss_of(model, x, samples)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    train_ms = time_ms(train_step, device, args.warmup, args.repeats)
    peak = (torch.cuda.max_memory_allocated(device) / 2**30
            if device.type == 'cuda' else None)
    model.eval()

    def infer():
        with torch.no_grad(), autocast:
            model(x) if not whole_model else model(x, samples, mode='tensor')

    row = dict(model=name, batch=batch, shape=f'{h}x{w}', amp=args.amp,
               train_img_s=batch / train_ms * 1e3, peak_train_mem_gb=peak,
               infer_img_s=batch / time_ms(infer, device, args.warmup,
                                           args.repeats) * 1e3)
    backbone = getattr(model, 'backbone', model)
    if hasattr(backbone, 'switch_to_deploy'):
        backbone.switch_to_deploy()
        row['infer_deploy_img_s'] = batch / time_ms(
            infer, device, args.warmup, args.repeats) * 1e3
    return row


def timm_models():
    try:
        import timm
    except ImportError:
        print('timm is not installed: skipping ConvNeXt-B and Swin-B')
        return []
    return [(n, timm.create_model(n, pretrained=False)) for n in TIMM_MODELS]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--backbone-only', action='store_true')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224])
    parser.add_argument('--amp', action='store_true',
                        help='bfloat16 autocast')
    parser.add_argument('--impls', nargs='+', choices=IMPLS, default=[None],
                        help="large-kernel conv implementations, each timed "
                        "in turn (default: the config's)")
    parser.add_argument('--timm', action='store_true',
                        help='also time timm ConvNeXt-B and Swin-B')
    parser.add_argument('--device', default=None)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--json')
    parser.add_argument('--md')
    args = parser.parse_args(argv)
    device = torch.device(args.device or
                          ('cuda' if torch.cuda.is_available() else 'cpu'))
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    arch = cfg.model.backbone.get('arch', '31B')
    arch = arch if isinstance(arch, str) else 'custom'
    name = (f'RepLKNet-{arch}' if args.backbone_only else
            f'{cfg.model.type} + RepLKNet-{arch}')
    rows = []
    for impl in args.impls:
        model = build(cfg, args.backbone_only, impl)
        rows.append(dict(measure(name, model, args, device,
                                 not args.backbone_only),
                         impl=impl or cfg.model.backbone.get(
                             'large_kernel_impl', 'auto')))
        del model
    if args.timm:
        rows += [measure(n, m, args, device, False) for n, m in timm_models()]
    for row in rows:
        print(row)
    results = dict(environment=environment(device), rows=rows,
                   command=' '.join(['tools/benchmark.py'] +
                                    (argv if argv is not None else [])))
    print(write_results(results, args.json, args.md, 'Model throughput',
                        COLUMNS))
    return results


if __name__ == '__main__':
    main()
