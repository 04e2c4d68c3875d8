"""tools/train.py: train a segmentor or detector from an mmrep config
(mmseg 1.x / mmdet 3.x options: --work-dir, --resume, --amp, --auto-scale-lr,
--cfg-options, --launcher)."""
from .launch import load_config, parse_tool_args, run, tool_parser
from .start_checks import check_pretrained, check_resume_fits


def parse_args(argv=None):
    parser = tool_parser('Train a segmentor or detector from a config',
                         'train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by the actual batch '
                        'size (needs auto_scale_lr in the config)')
    return parse_tool_args(parser, argv)


def enable_amp(cfg):
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper == 'AmpOptimWrapper':
        print('AMP is already enabled in the config')
        return
    if wrapper != 'OptimWrapper':
        raise ValueError(f'--amp needs OptimWrapper, the config has '
                         f'{wrapper}')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def build_cfg(args):
    """The training config the command line asks for."""
    cfg = load_config(args)
    if args.amp:
        enable_amp(cfg)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'base_batch_size' not in (cfg.get('auto_scale_lr') or {}):
            raise ValueError('--auto-scale-lr: the config has no '
                             'auto_scale_lr.base_batch_size')
        cfg.auto_scale_lr.enable = True
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = build_cfg(args)
    start = check_pretrained(cfg, args.config)

    def train(runner):
        if cfg.resume and start is not None:
            check_resume_fits(runner.model, start, args.config)
        runner.train()

    run(cfg, train)
