"""Train a segmentor or detector from an mmrep config (mmseg 1.x / mmdet 3.x
conventions: --work-dir, --resume, --amp, --cfg-options, --launcher)."""
import argparse
import os
import os.path as osp
import warnings

# Before mmengine is imported: it and the OpenMMLab packages import the
# deprecated pkg_resources (one warning per importer), and mmengine's DDP
# wrapper passes the broadcast_buffers it defaults to; neither is the user's
# to act on.
warnings.filterwarnings('ignore', 'pkg_resources is deprecated')
warnings.filterwarnings('ignore', '`broadcast_buffers` is deprecated')

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmrep.engine.start_checks import (  # noqa: E402
    check_pretrained, check_resume_fits)
from mmrep.utils import (  # noqa: E402
    close_process_group, init_cpu_process_group, prepare_cpu_distributed,
    task_of)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by the actual batch '
                        'size (needs auto_scale_lr in the config)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_cfg(args):
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper == 'AmpOptimWrapper':
            print('AMP is already enabled in the config')
        else:
            assert wrapper == 'OptimWrapper', (
                f'--amp needs OptimWrapper, the config has {wrapper}')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.get(
                'auto_scale_lr', {}):
            raise ValueError('--auto-scale-lr: the config has no '
                             'auto_scale_lr.base_batch_size')
        cfg.auto_scale_lr.enable = True
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = build_cfg(args)
    task_of(cfg)
    start = check_pretrained(cfg, args.config)
    if init_cpu_process_group(args.launcher,
                              cfg.env_cfg.get('dist_cfg', {}).get('backend',
                                                                  'gloo')):
        prepare_cpu_distributed(cfg)
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    if cfg.resume and start is not None:
        check_resume_fits(runner.model, start, args.config)
    runner.train()
    del runner  # its DDP wrapper holds the process group
    close_process_group()


if __name__ == '__main__':
    main()
