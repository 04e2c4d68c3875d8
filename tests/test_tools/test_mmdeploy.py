"""Deployment through MMDeploy 1.3.1 (`make deploy-deps`) on this torch:
mmrep's named patches, its deploy configs, and the toy Mask R-CNN and
UperNet exported by MMDeploy's own API and run in ONNX Runtime, against
the trained PyTorch models."""
import glob
import json
import os
import os.path as osp
import sys
import types

import onnx
import pytest
import torch

from mmrep import mmdeploy_compat
from mmrep.apis.mmdeploy import Predictors, check_pair, export
from mmrep.models.layers.large_kernel_conv import ReparamLargeKernelConv
from mmrep.utils import read_config

from ..helpers import (ROOT, TOY_DET, TOY_SEG, run_tool, toy_ade_options,
                       toy_coco_options)

pytestmark = pytest.mark.downstream
DEPLOY = osp.join(ROOT, 'configs', 'deploy')
INSTANCE_SEG = osp.join(DEPLOY, 'instance-seg_onnxruntime_dynamic.py')
SEGMENTATION = osp.join(DEPLOY, 'segmentation_onnxruntime_dynamic.py')


def as_dict(options):
    return dict(o.split('=', 1) for o in options)


def val_images(root, num=8):
    found = sorted(glob.glob(osp.join(root, 'val', '*.jpg')) +  # COCO
                   glob.glob(osp.join(root, 'images', 'validation', '*')))
    assert len(found) >= num, root
    return found[:num]


# ---- the patches --------------------------------------------------------

@pytest.mark.parametrize('first', ['mmrep', 'mmdeploy'])
def test_import_mmrep_patches_mmdeploy_in_either_order(first):
    second = 'mmdeploy' if first == 'mmrep' else 'mmrep'
    proc = run_tool(sys.executable, '-c', f"""
import {first}, {second}
import torch.onnx.symbolic_opset9 as opset9
from mmdeploy.core import FUNCTION_REWRITER
from mmdeploy.core.rewriters import function_rewriter
from mmrep.mmdeploy_compat import apply_patches
print('applied', sorted(apply_patches()))
print('cast_long', hasattr(opset9, '_cast_Long'))
print('list', not isinstance(function_rewriter._wrapped_fns_to_patch, dict))
records = FUNCTION_REWRITER._registry._rewrite_records
print('export', 'torch.onnx.export' in records)
""")
    # torch >= 2.9 needs all three; each feature check found its change
    assert "applied ['adaptive_avg_pool2d_exact', " \
        "'cascade_per_class_regression', 'fx_wrapped_fns_list', " \
        "'symbolic_opset9_cast_long', 'torch_onnx_export_torchscript']" \
        in proc.stdout
    for line in ('cast_long True', 'list True', 'export True'):
        assert line in proc.stdout
    assert proc.stdout.count('MMDeploy 1.3.1 patched for torch') == 1


def test_an_unknown_mmdeploy_version_is_logged_and_left_alone(tmp_path):
    fake = tmp_path / 'mmdeploy'
    fake.mkdir()
    (fake / '__init__.py').write_text("__version__ = '0.14.0'\n")
    proc = run_tool(sys.executable, '-c', 'import mmrep, mmdeploy',
                    env=dict(os.environ,
                             PYTHONPATH=str(tmp_path)))
    assert 'MMDeploy patches not applied: MMDeploy 0.14.0 is not a ' \
        'version mmrep supports (1.3.x); run `make deploy-deps`' in proc.stdout


def test_check_mmdeploy_names_the_fix(monkeypatch):
    import mmdeploy
    assert mmdeploy_compat.check_mmdeploy() == mmdeploy.__version__
    monkeypatch.setattr(mmdeploy, '__version__', '1.2.0')
    with pytest.raises(ImportError, match=r'MMDeploy 1.2.0 is not .*'
                       r'make deploy-deps'):
        mmdeploy_compat.check_mmdeploy()
    monkeypatch.setitem(sys.modules, 'mmdeploy', None)
    with pytest.raises(ImportError, match='not installed.*make deploy-deps'):
        mmdeploy_compat.check_mmdeploy()


def test_wrapped_fns_list_is_the_list_mmdeploy_expects_over_the_dict():
    one, two = dict(a=1), dict(b=2)
    table = {(id(one), 'f'): one}
    view = mmdeploy_compat.WrappedFnsList(table)
    view.append((two, 'g'))
    assert len(view) == 2 and list(view) == [(one, 'f'), (two, 'g')]
    assert view.pop(-1) == (two, 'g')
    assert table == {(id(one), 'f'): one}
    with pytest.raises(IndexError):
        view.pop(0)


def test_mmdeploys_rewriting_context_survives_an_fx_wrap_inside_it():
    """Before the patch, leaving the context after a torch.fx.wrap raised
    KeyError: -1 and left functions patched."""
    from mmdeploy.core import RewriterContext
    from torch.fx import _symbolic_trace
    before = dict(_symbolic_trace._wrapped_fns_to_patch)
    module = types.ModuleType('fx_wrapped_here')
    with RewriterContext(cfg={}, backend='onnxruntime'):
        exec(compile('import torch.fx\ndef f(x):\n    return x\n'
                     'torch.fx.wrap("f")\n', 'fx_wrapped_here', 'exec'),
             module.__dict__)
        assert len(_symbolic_trace._wrapped_fns_to_patch) == len(before) + 1
    assert _symbolic_trace._wrapped_fns_to_patch == before


def test_onnx_export_inside_mmdeploy_is_the_torchscript_exporter(tmp_path):
    """torch >= 2.9 defaults to the dynamo exporter (it needs onnxscript,
    which MMDeploy's rewriters do not work with); inside MMDeploy's context
    the call gets dynamo=False, outside it is torch's own."""
    from mmdeploy.core import RewriterContext
    original = torch.onnx.export
    model = torch.nn.Conv2d(3, 4, 3).eval()
    with RewriterContext(cfg={}, backend='onnxruntime'), torch.no_grad():
        assert torch.onnx.export is not original
        torch.onnx.export(model, (torch.randn(1, 3, 8, 8), ),
                          str(tmp_path / 'conv.onnx'), opset_version=11)
    assert torch.onnx.export is original
    graph = onnx.load(str(tmp_path / 'conv.onnx')).graph
    assert [n.op_type for n in graph.node] == ['Conv']


@pytest.mark.parametrize('backend', ['onnxruntime', 'tensorrt', 'default'])
def test_adaptive_pooling_is_exact_inside_mmdeploy(backend):
    """MMDeploy's own rewrite pools a 16x16 map (UperNet's at 512) to 8x8
    for 6x6, and takes other windows for 3x3; mmrep's is exact for the
    backends it ships configs for."""
    import torch.nn.functional as F
    from mmdeploy.core import RewriterContext
    from mmengine import Config
    x = torch.randn(1, 2, 16, 16, dtype=torch.float64)
    cfg = Config(dict(onnx_config=dict(input_shape=None),
                      backend_config=dict(type=backend)))
    with RewriterContext(cfg=cfg, backend=backend):
        pooled = [F.adaptive_avg_pool2d(x, out) for out in (3, 6)]
    want = [F.adaptive_avg_pool2d(x, out) for out in (3, 6)]
    if backend == 'default':  # MMDeploy's, left alone
        assert pooled[1].shape[-1] == 8
        assert not torch.allclose(pooled[0], want[0])
    else:
        for got, ref in zip(pooled, want):
            torch.testing.assert_close(got, ref)


# ---- the deploy configs -------------------------------------------------

DEPLOY_CONFIGS = sorted(glob.glob(osp.join(DEPLOY, '*.py')))
MODEL_CONFIGS = {
    family: sorted(glob.glob(osp.join(ROOT, 'configs', family, '*.py')))
    for family in ('fcos', 'mask_rcnn', 'cascade_mask_rcnn', 'upernet')}
TASK_OF = dict(fcos='detection', mask_rcnn='instance-seg',
               cascade_mask_rcnn='instance-seg', upernet='segmentation')


def test_deploy_configs_say_what_their_names_say():
    from mmdeploy.utils import (get_backend, get_codebase, get_input_shape,
                                load_config)
    names = {osp.basename(p) for p in DEPLOY_CONFIGS}
    for task in ('detection', 'instance-seg', 'segmentation'):
        for kind in ('onnxruntime_dynamic', 'onnxruntime_static',
                     'tensorrt_dynamic'):
            assert any(n.startswith(f'{task}_{kind}') for n in names), \
                (task, kind)
    for path in DEPLOY_CONFIGS:
        name = osp.basename(path)[:-3]
        cfg = load_config(path)[0]
        task, backend, shape = name.split('_', 2)
        assert get_backend(cfg).value == backend
        assert get_codebase(cfg).value == (
            'mmseg' if task == 'segmentation' else 'mmdet')
        assert ('masks' in cfg.onnx_config.output_names) == (
            task == 'instance-seg')
        if shape.startswith('static'):  # static-HxW: input_shape is W, H
            h, w = map(int, shape.split('-')[1].split('x'))
            assert get_input_shape(cfg) == [w, h]
        else:
            assert 'dynamic_axes' in cfg.onnx_config
        if backend == 'tensorrt':
            shapes = cfg.backend_config.model_inputs[0].input_shapes.input
            assert all(a <= b <= c for a, b, c in zip(
                shapes.min_shape, shapes.opt_shape, shapes.max_shape))


@pytest.mark.parametrize('family', sorted(MODEL_CONFIGS))
def test_every_shipped_config_has_its_deploy_configs(family):
    from mmdeploy.utils import load_config
    deploy_paths = [p for p in DEPLOY_CONFIGS
                    if osp.basename(p).startswith(TASK_OF[family] + '_')]
    assert len(deploy_paths) >= 3
    for model_path in MODEL_CONFIGS[family]:
        model_cfg = read_config(model_path)
        for path in deploy_paths:
            check_pair(load_config(path)[0], model_cfg, path, model_path,
                       run=False)


def test_mismatched_configs_and_files_are_refused(tmp_path):
    from mmdeploy.utils import load_config
    seg, det = read_config(TOY_SEG), read_config(TOY_DET)
    fcos = read_config(MODEL_CONFIGS['fcos'][0])
    inst = load_config(INSTANCE_SEG)[0]
    with pytest.raises(ValueError, match='for mmdet models.*mmseg model.*'
                       'segmentation_'):
        check_pair(inst, seg, 'INST', 'SEG')
    with pytest.raises(ValueError, match='for mmseg models.*mmdet model'):
        check_pair(load_config(SEGMENTATION)[0], det, 'SEG', 'DET')
    with pytest.raises(ValueError, match='exports masks.*no mask head.*'
                       'detection_'):
        check_pair(inst, fcos, 'INST', 'FCOS')
    trt = osp.join(DEPLOY, 'instance-seg_tensorrt_dynamic-320x320-'
                   '1344x1344.py')
    with pytest.raises(ValueError, match="backend 'tensorrt' is not "
                       "supported here.*onnxruntime"):
        check_pair(load_config(trt)[0], det, trt, 'DET')
    check_pair(load_config(trt)[0], det, trt, 'DET', run=False)
    ckpt, image = tmp_path / 'model.pth', tmp_path / 'image.jpg'
    ckpt.write_bytes(b'')
    image.write_bytes(b'')
    with pytest.raises(FileNotFoundError, match='checkpoint .*missing.pth'):
        export(INSTANCE_SEG, TOY_DET, str(tmp_path / 'missing.pth'),
               str(tmp_path), str(image))
    with pytest.raises(FileNotFoundError, match='image .*nowhere.jpg'):
        export(INSTANCE_SEG, TOY_DET, str(ckpt), str(tmp_path),
               str(tmp_path / 'nowhere.jpg'))
    with pytest.raises(ValueError, match='for mmdet models'):
        export(INSTANCE_SEG, TOY_SEG, str(ckpt), str(tmp_path), str(image))


# ---- the toy models through MMDeploy, in ONNX Runtime ------------------

def break_the_merge(monkeypatch):
    """A broken re-parameterization: the merged kernel is transposed and
    loses its bias."""
    merge = ReparamLargeKernelConv.equivalent_kernel_bias

    def broken(self):
        kernel, bias = merge(self)
        return kernel.transpose(-1, -2), torch.zeros_like(bias)

    monkeypatch.setattr(ReparamLargeKernelConv, 'equivalent_kernel_bias',
                        broken)


def exported_predictors(deploy_cfg, model_cfg, checkpoint, images,
                        work_dir, cfg_options=None):
    """Export through MMDeploy (standard ONNX ops only) and return the
    PyTorch and ONNX Runtime predictors."""
    exported = export(deploy_cfg, model_cfg, checkpoint, str(work_dir),
                      images[0], cfg_options=cfg_options)
    ops = {(n.domain, n.op_type)
           for n in onnx.load(exported.onnx).graph.node}
    assert ('', 'Conv') in ops and all(d == '' for d, _ in ops), ops
    return Predictors(deploy_cfg, model_cfg, checkpoint, exported,
                      cfg_options=cfg_options)


def exported_agreement(deploy_cfg, model_cfg, checkpoint, images, work_dir,
                       cfg_options=None):
    return exported_predictors(deploy_cfg, model_cfg, checkpoint, images,
                               work_dir, cfg_options).agreement(images)


def assert_boxes_agree(agreement, least=0.9):
    assert agreement['boxes'] >= 8, agreement  # confident somewhere
    assert agreement['boxes_found'] >= least * agreement['boxes'], agreement
    assert agreement['boxes_found_back'] >= \
        least * agreement['boxes_back'], agreement


def test_toy_mask_rcnn_through_the_tool_agrees_with_pytorch(
        toy_coco, toy_det_checkpoint, tmp_path):
    """tools/deploy/deploy_mmdeploy.py: export, ONNX Runtime on 8 images
    (confident boxes matched by label at IoU > 0.9, their masks), and the
    toy val mAP of both."""
    out = tmp_path / 'result.json'
    run_tool('tools/deploy/deploy_mmdeploy.py', INSTANCE_SEG, TOY_DET,
             toy_det_checkpoint, *val_images(toy_coco), '--work-dir',
             str(tmp_path / 'work'), '--eval', '--out', str(out),
             '--cfg-options', *toy_coco_options(toy_coco))
    result = json.loads(out.read_text())
    assert_boxes_agree(result['agreement'])
    assert result['agreement']['mask_iou'] > 0.9
    want, got = (result['metrics'][k] for k in ('pytorch', 'onnxruntime'))
    assert want['coco/bbox_mAP'] > 0.2
    for key in ('coco/bbox_mAP', 'coco/segm_mAP'):
        assert abs(want[key] - got[key]) <= 0.02, (key, want, got)
    assert result['onnx_mb'] > 1 and result['export_s'] > 0


def test_a_named_implementation_exports_as_pytorchs_conv(
        toy_coco, toy_det_checkpoint, tmp_path):
    """large_kernel_impl='rows' in the config: the ONNX graph holds
    standard ops only (checked in exported_agreement) and agrees."""
    options = as_dict(toy_coco_options(toy_coco))
    options['model.backbone.large_kernel_impl'] = 'rows'
    assert_boxes_agree(exported_agreement(
        INSTANCE_SEG, TOY_DET, toy_det_checkpoint, val_images(toy_coco),
        tmp_path, options))


def test_a_static_deploy_config_agrees(toy_coco, toy_det_checkpoint,
                                       tmp_path):
    static = tmp_path / 'instance-seg_onnxruntime_static-128x128.py'
    static.write_text(
        f"_base_ = ['{DEPLOY}/instance-seg_onnxruntime_static-800x1344.py']"
        "\nonnx_config = dict(input_shape=[128, 128])\n")
    agreement = exported_agreement(
        str(static), TOY_DET, toy_det_checkpoint, val_images(toy_coco),
        tmp_path / 'work', as_dict(toy_coco_options(toy_coco)))
    assert_boxes_agree(agreement)


def test_a_broken_reparameterization_fails_the_box_agreement(
        toy_coco, toy_det_checkpoint, tmp_path, monkeypatch):
    break_the_merge(monkeypatch)
    agreement = exported_agreement(
        INSTANCE_SEG, TOY_DET, toy_det_checkpoint, val_images(toy_coco),
        tmp_path, as_dict(toy_coco_options(toy_coco)))
    assert agreement['boxes_found'] < 0.5 * agreement['boxes'], agreement


@pytest.mark.parametrize('broken', [False, True], ids=['merged', 'broken'])
def test_toy_upernet_through_mmdeploy_agrees_with_pytorch(
        broken, toy_ade, toy_seg_training, tmp_path, monkeypatch):
    if broken:
        break_the_merge(monkeypatch)
    options = as_dict(toy_ade_options(toy_ade))
    _, checkpoint = toy_seg_training
    images = val_images(toy_ade)
    predictors = exported_predictors(SEGMENTATION, TOY_SEG, checkpoint,
                                     images, tmp_path, options)
    agreement = predictors.agreement(images)
    if broken:  # the toy model leans on its large kernels less: 0.98
        assert agreement['pixels_agree'] < 0.99, agreement
        return
    # pixels whose two best classes tie within rounding may differ
    assert agreement['pixels_agree'] > 0.995, agreement
    want, got = (predictors.evaluate(k)['mIoU']
                 for k in ('pytorch', 'onnxruntime'))
    assert want > 30 and abs(want - got) <= 0.5, (want, got)


# ---- Cascade Mask R-CNN: per-class regression before the last stage ------

def toy_cascade_config(path):
    """The toy Mask R-CNN with a 3-stage Cascade RoI head, each stage the
    toy's box and mask heads, regressing per class (as the papers'
    recipe)."""
    from mmengine import Config
    cfg = Config.fromfile(TOY_DET)
    roi = cfg.model.roi_head
    roi.update(type='CascadeRoIHead', num_stages=3,
               stage_loss_weights=[1, 0.5, 0.25],
               bbox_head=[roi.bbox_head] * 3, mask_head=[roi.mask_head] * 3)
    assert not roi.bbox_head[0].get('reg_class_agnostic', False)
    cfg.model.train_cfg.rcnn = [cfg.model.train_cfg.rcnn] * 3
    cfg.dump(str(path))
    return str(path)


@pytest.fixture(scope='module')
def toy_cascade(toy_det_checkpoint, tmp_path_factory):
    """The toy cascade config and a checkpoint: the trained toy Mask R-CNN
    with its box and mask heads in every stage."""
    from mmrep.checkpoint.loading import read_checkpoint, unwrap_state_dict
    root = tmp_path_factory.mktemp('toy_cascade')
    state = unwrap_state_dict(read_checkpoint(toy_det_checkpoint))
    staged = {}
    for key, value in state.items():
        head = next((h for h in ('roi_head.bbox_head.', 'roi_head.mask_head.')
                     if key.startswith(h)), None)
        if head is None:
            staged[key] = value
        for stage in range(3) if head else ():
            staged[f'{head}{stage}.{key[len(head):]}'] = value
    torch.save({'state_dict': staged}, root / 'cascade.pth')
    return toy_cascade_config(root / 'cascade.py'), str(root / 'cascade.pth')


def refined_rois(roi_head, *args):
    """What ``roi_head.predict_bbox(*args)`` hands the last stage's
    ``predict_by_feat``: the refined RoIs, mean scores and deltas."""
    seen = {}

    def record(**kwargs):
        seen.update(kwargs)
        raise StopIteration

    roi_head.bbox_head[-1].predict_by_feat = record
    with pytest.raises(StopIteration):
        roi_head.predict_bbox(*args)
    del roi_head.bbox_head[-1].predict_by_feat
    return [torch.cat(list(seen[k])).reshape(-1, seen[k][0].shape[-1])
            for k in ('rois', 'cls_scores', 'bbox_preds')]


def test_cascade_per_class_stages_refine_as_mmdet(tmp_path):
    """Inside MMDeploy (ONNX Runtime, TensorRT), a per-class stage refines
    each RoI with its best class's deltas, as mmdet's regress_by_class:
    the RoIs, scores and deltas reaching the last stage equal mmdet's.
    MMDeploy's own rewrite (the default backend) refuses such heads."""
    import mmdeploy.codebase.mmdet.models  # noqa: F401 (its rewriters)
    from mmdeploy.core import RewriterContext
    from mmdet.registry import MODELS
    from mmdeploy.utils import load_config
    from mmdet.utils import register_all_modules
    from mmengine import Config
    from mmengine.structures import InstanceData
    register_all_modules()
    cfg = Config.fromfile(toy_cascade_config(tmp_path / 'cascade.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    roi_head = model.roi_head
    corners = torch.rand(40, 2, 2) * torch.tensor([160., 128.])
    boxes = torch.cat([corners.min(1).values, corners.max(1).values], 1)
    metas = [dict(img_shape=(128, 160), ori_shape=(128, 160),
                  scale_factor=(1., 1.))]
    rcnn = cfg.model.test_cfg.rcnn
    trt = osp.join(DEPLOY,
                   'instance-seg_tensorrt_dynamic-320x320-1344x1344.py')
    with torch.no_grad():
        feats = model.extract_feat(torch.randn(1, 3, 128, 160))
        want = refined_rois(roi_head, feats, metas,
                            [InstanceData(bboxes=boxes)], rcnn)
        proposals = [torch.cat([boxes, torch.ones(40, 1)], 1)[None]]
        # MMDeploy's TensorRT RoI extractor differs from mmdet's by a few
        # hundredths of a pixel with class-agnostic heads too
        for backend, path, atol in (('onnxruntime', INSTANCE_SEG, 1e-5),
                                    ('tensorrt', trt, 0.1)):
            with RewriterContext(cfg=load_config(path)[0], backend=backend):
                got = refined_rois(roi_head, feats, metas, proposals, rcnn)
            for a, b in zip(want, got):
                torch.testing.assert_close(b, a, atol=atol, rtol=1e-5)
            assert not any(h.reg_class_agnostic for h in roi_head.bbox_head)
            assert '_bbox_forward' not in vars(roi_head)
        with RewriterContext(cfg=load_config(INSTANCE_SEG)[0],
                             backend='default'), \
                pytest.raises(AssertionError):
            roi_head.predict_bbox(feats, metas, proposals, rcnn)
    # the stages moved the boxes, each by its own class's deltas
    assert not torch.allclose(want[0][:, 1:], boxes, atol=1e-3)


def test_toy_cascade_mask_rcnn_through_mmdeploy_agrees(
        toy_coco, toy_cascade, tmp_path):
    config, checkpoint = toy_cascade
    predictors = exported_predictors(
        INSTANCE_SEG, config, checkpoint, val_images(toy_coco), tmp_path,
        as_dict(toy_coco_options(toy_coco)))
    agreement = predictors.agreement(val_images(toy_coco))
    assert_boxes_agree(agreement)
    assert agreement['mask_iou'] > 0.9
