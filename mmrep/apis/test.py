"""tools/test.py: test a checkpoint with an mmrep config (mIoU for
segmentation configs, COCO bbox/segm mAP for detection configs; mmseg 1.x /
mmdet 3.x options: --out, --show, --show-dir, --tta, --cfg-options,
--launcher), plus --deploy."""
import copy
import os.path as osp

from mmengine.config import ConfigDict
from mmengine.dist import get_rank
from mmengine.hooks import LoggerHook

from mmrep.utils import task_of
from .launch import load_config, parse_tool_args, run, tool_parser


def parse_args(argv=None):
    parser = tool_parser('Test a checkpoint with a config: mIoU or COCO mAP',
                         'test config file path')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument(
        '--out', help='segmentation: folder for the predicted masks; '
        'detection: a .pkl file for the raw results')
    parser.add_argument('--show', action='store_true',
                        help='show predictions in a window')
    parser.add_argument('--show-dir', help='folder for painted predictions')
    parser.add_argument('--wait-time', type=float, default=2)
    parser.add_argument('--tta', action='store_true',
                        help='test-time augmentation (multi-scale + flip)')
    parser.add_argument('--deploy', action='store_true',
                        help='re-parameterize the loaded model (merge every '
                        'large-kernel branch) before testing: same '
                        'predictions, faster')
    return parse_tool_args(parser, argv)


def enable_visualization(cfg, args, task):
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise RuntimeError('--show/--show-dir need default_hooks.visualization'
                           ' in the config')
    hook = hooks.visualization
    hook.draw = True
    if args.show:
        hook.show, hook.wait_time = True, args.wait_time
    if args.show_dir:
        if task == 'seg':
            cfg.visualizer.save_dir = args.show_dir
        else:
            hook.test_out_dir = args.show_dir


def default_det_tta(cfg):
    """mmdet 3.x's default for configs without TTA settings: flip TTA of
    the test pipeline, boxes merged by NMS."""
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(
            type='DetTTAModel',
            tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.5),
                         max_per_img=100))
    if 'tta_pipeline' not in cfg:
        pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
        pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[[dict(type='RandomFlip', prob=1.),
                         dict(type='RandomFlip', prob=0.)],
                        [dict(type='PackDetInputs',
                              meta_keys=('img_id', 'img_path', 'ori_shape',
                                         'img_shape', 'scale_factor', 'flip',
                                         'flip_direction'))]])
        cfg.tta_pipeline = pipeline


def enable_tta(cfg, task):
    if task == 'det':
        if (cfg.model.get('roi_head') or {}).get('mask_head'):
            raise ValueError(
                '--tta: mmdet 3.x test-time augmentation (DetTTAModel) '
                'merges boxes only; this config has a mask head. Use it '
                'with box models (FCOS, Faster R-CNN), or drop the mask '
                'head: --cfg-options model.roi_head.mask_head=None '
                'model.roi_head.mask_roi_extractor=None '
                'test_evaluator.metric=bbox')
        default_det_tta(cfg)
    elif 'tta_pipeline' not in cfg or 'tta_model' not in cfg:
        raise RuntimeError('--tta needs tta_pipeline and tta_model in the '
                           'config')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)


def build_cfg(args):
    """The test config the command line asks for, and its task."""
    cfg = load_config(args)
    task = task_of(cfg)
    if args.show or args.show_dir:
        enable_visualization(cfg, args, task)
    if args.tta:
        enable_tta(cfg, task)
    if args.out and task == 'seg':
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    if args.out and task == 'det' and not args.out.endswith(('.pkl',
                                                             '.pickle')):
        raise ValueError(f'--out {args.out!r}: detection results are written'
                         f' as a .pkl or .pickle file')
    if args.deploy:
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
            dict(type='ReparameterizeHook')]
    cfg.load_from = args.checkpoint
    return cfg, task


def dump_metrics_on_rank0_only(runner):
    """mmengine's LoggerHook dumps the test metrics into one json file from
    every rank; ranks writing it at once can leave it corrupted (a line
    ending in '}}'). Every rank holds the same gathered metrics, so only
    rank 0 writes them."""
    if get_rank() == 0:
        return
    for hook in runner.hooks:
        if isinstance(hook, LoggerHook):
            hook.after_test_epoch = lambda *args, **kwargs: None


def main(argv=None):
    args = parse_args(argv)
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not '
                                f'exist')
    cfg, task = build_cfg(args)

    def test(runner):
        dump_metrics_on_rank0_only(runner)
        if args.out and task == 'det':
            from mmdet.evaluation import DumpDetResults
            runner.test_evaluator.metrics.append(
                DumpDetResults(out_file_path=args.out))
        return runner.test()

    return run(cfg, test)
