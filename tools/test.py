"""Test a checkpoint with an mmrep config: mIoU for segmentation configs,
COCO bbox/segm mAP for detection configs (mmseg 1.x / mmdet 3.x options)."""
import argparse
import copy
import os
import os.path as osp
import warnings

# Before mmengine is imported: it and the OpenMMLab packages import the
# deprecated pkg_resources (one warning per importer), and mmengine's DDP
# wrapper passes the broadcast_buffers it defaults to; neither is the user's
# to act on.
warnings.filterwarnings('ignore', 'pkg_resources is deprecated')
warnings.filterwarnings('ignore', '`broadcast_buffers` is deprecated')

from mmengine.config import Config, ConfigDict, DictAction  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmrep.utils import (  # noqa: E402
    close_process_group, init_cpu_process_group, prepare_cpu_distributed,
    task_of)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the metrics are written')
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
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


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
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    task = task_of(cfg)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
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


def main(argv=None):
    args = parse_args(argv)
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not '
                                f'exist')
    cfg, task = build_cfg(args)
    if init_cpu_process_group(args.launcher,
                              cfg.env_cfg.get('dist_cfg', {}).get('backend',
                                                                  'gloo')):
        prepare_cpu_distributed(cfg)
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(
        cfg)
    if args.out and task == 'det':
        from mmdet.evaluation import DumpDetResults
        runner.test_evaluator.metrics.append(
            DumpDetResults(out_file_path=args.out))
    metrics = runner.test()
    del runner  # its DDP wrapper holds the process group
    close_process_group()
    return metrics


if __name__ == '__main__':
    main()
