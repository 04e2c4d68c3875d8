"""Run a config's training recipe on another number of GPUs, unchanged.

Prints the recipe (images per optimizer step, training images, warm-up
share, learning rate) and the --cfg-options that keep it on --gpus GPUs:
gradient accumulation and every count in iterations scale together.

  python tools/scale_recipe.py \
      configs/upernet/upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py \
      --gpus 64
  tools/dist_train.sh CONFIG 64 --cfg-options <the printed options>
"""
import argparse

from mmengine.config import Config

from mmrep.utils.recipe import (format_options, gpus_of, rescale,
                                summarize)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('config')
    parser.add_argument('--gpus', type=int, required=True,
                        help='GPUs to train on')
    parser.add_argument('--images-per-gpu', type=int,
                        help='default: as in the config')
    parser.add_argument('--config-gpus', type=int,
                        help='GPUs the config is written for (default: '
                        'read from its name, "_8xb2-" = 8)')
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    from_gpus = args.config_gpus or gpus_of(args.config)
    try:
        options = rescale(cfg, from_gpus, args.gpus, args.images_per_gpu)
    except ValueError as err:
        parser.error(str(err))
    scaled = Config(cfg.to_dict())
    scaled.merge_from_dict(options)
    for label, gpus, config in (('config', from_gpus, cfg),
                                ('scaled', args.gpus, scaled)):
        recipe = summarize(config, gpus)
        print(f'{label}: ' + ', '.join(f'{k}={v:g}' if isinstance(v, float)
                                       else f'{k}={v}'
                                       for k, v in recipe.items()))
    print(f'--cfg-options {format_options(options)}')


if __name__ == '__main__':
    main()
