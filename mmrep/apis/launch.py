"""The start-up tools/train.py and tools/test.py share: the common
command-line options (as mmseg's and mmdet's tools spell them), the config
they make, and a Runner run inside a process group that ends before the
process exits."""
import argparse
import os
import os.path as osp

from mmengine.config import DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmrep.utils import (close_process_group, init_cpu_process_group,
                         prepare_cpu_distributed, read_config, task_of)


def tool_parser(description, config_help='config file path'):
    """An argument parser with the config path and the options every
    tool run has: --work-dir, --cfg-options, --launcher, --local-rank."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help=config_help)
    parser.add_argument('--work-dir',
                        help='where logs, checkpoints and metrics go')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def parse_tool_args(parser, argv=None):
    """Parse; the rank a launcher passes as --local-rank becomes LOCAL_RANK
    (unless torchrun already set it)."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_config(args):
    """The config of ``args.config`` with the launcher, --cfg-options and
    the work dir (default ``./work_dirs/<config name>``) applied."""
    cfg = read_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    task_of(cfg)  # a config of neither mmseg nor mmdet fails here
    return cfg


def run(cfg, action):
    """Build the Runner of ``cfg`` and return ``action(runner)``.

    On a machine without GPUs a distributed launch gets a gloo process
    group (and SyncBN becomes BN); the group is ended once the Runner,
    whose DDP wrapper holds it, is gone.
    """
    backend = cfg.env_cfg.get('dist_cfg', {}).get('backend', 'gloo')
    if init_cpu_process_group(cfg.launcher, backend):
        prepare_cpu_distributed(cfg)
    runner = (RUNNERS.build(cfg) if 'runner_type' in cfg else
              Runner.from_cfg(cfg))
    result = action(runner)
    del runner
    close_process_group()
    return result
