"""Convert official RepLKNet checkpoints into ones mmrep's configs load.

  ImageNet (official .pth or mmpretrain conversion) -> clean backbone file:
    python tools/convert_checkpoint.py RepLKNet-31B_ImageNet-1K_224.pth \
        checkpoints/replknet31b_in1k.pth [--arch 31B]
  Official downstream (mmseg 0.x UperNet, mmdet 2.x FCOS / Cascade Mask
  R-CNN) -> checkpoint for tools/test.py, checked against the config's model:
    python tools/convert_checkpoint.py upernet_official.pth upernet.pth \
        --config \
        configs/upernet/upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py
"""
import argparse

from mmengine.config import DictAction

from mmrep.apis.convert import convert_file, target_model


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('src', help='checkpoint to convert: a file, an '
                        'http(s):// URL or any mmengine checkpoint scheme')
    parser.add_argument('dst', help='where to write the result')
    parser.add_argument('--config', help='check a downstream checkpoint '
                        'against this config\'s model')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='with --config: override config entries (e.g. '
                        'num_classes of a fine-tuned model)')
    parser.add_argument('--arch', help='check ImageNet weights against this '
                        'RepLKNet arch (31B, 31L, XL, ...)')
    parser.add_argument('--stage-norms', action='store_true',
                        help='with --arch: the weights have stages.i.norm')
    parser.add_argument('--model-key', help='the entry holding the weights '
                        '(default: state_dict or model; model_ema for the '
                        "official training script's EMA weights)")
    args = parser.parse_args(argv)
    model = target_model(args.config, args.cfg_options, args.arch,
                         args.stage_norms)
    fmt, count = convert_file(args.src, args.dst, model, args.model_key)
    print(f'{args.src} ({fmt} format, {count} tensors) -> {args.dst}'
          + (' (keys and shapes checked)' if model is not None else ''))


if __name__ == '__main__':
    main()
