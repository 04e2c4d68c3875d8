"""Deploy a trained detector or segmentor through MMDeploy: re-parameterize
it, export it with MMDeploy's ``torch2onnx``, run the ONNX model in ONNX
Runtime through MMDeploy's backend model, and say how far it agrees with
the trained PyTorch model.

MMDeploy itself is optional (``make deploy-deps``); on new torch it needs
the patches of :mod:`mmrep.mmdeploy_compat`, which ``import mmrep``
applies.
"""
import copy
import os
import os.path as osp
import time
from dataclasses import dataclass

import torch

from mmrep.mmdeploy_compat import check_mmdeploy
from mmrep.utils import read_config

from .agreement import detection_agreement, segmentation_agreement
from .deploy import build_trained, reparameterize

RUNNABLE_BACKENDS = ('onnxruntime', )
SHIPPED_BACKENDS = ('onnxruntime', 'tensorrt')
CODEBASES = ('mmdet', 'mmseg')  # MMDeploy's codebase names are the scopes


def check_pair(deploy_cfg, model_cfg, deploy_path, model_path, run=True):
    """Raise a ValueError naming the fix unless ``deploy_cfg`` fits
    ``model_cfg`` (codebase, masks) and, with ``run``, names a backend this
    module runs."""
    backend = deploy_cfg.get('backend_config', {}).get('type')
    allowed = RUNNABLE_BACKENDS if run else SHIPPED_BACKENDS
    if backend not in allowed:
        raise ValueError(
            f'deploy config {deploy_path}: backend {backend!r} is not '
            f'supported here ({", ".join(allowed)}); use a '
            f'configs/deploy/*_onnxruntime_*.py config, or MMDeploy\'s '
            f'tools/deploy.py where {backend} is installed')
    codebase = deploy_cfg.get('codebase_config', {}).get('type')
    scope = model_cfg.get('default_scope')
    if codebase not in CODEBASES or codebase != scope:
        kind = 'segmentation_*' if scope == 'mmseg' else 'detection_* or ' \
            'instance-seg_*'
        raise ValueError(
            f'deploy config {deploy_path} is for {codebase} models, but '
            f'{model_path} is a {scope} model; use configs/deploy/{kind}.py')
    wants_masks = 'masks' in deploy_cfg.onnx_config.get('output_names', [])
    has_masks = bool(model_cfg.model.get('roi_head', {}).get('mask_head'))
    if wants_masks and not has_masks:
        raise ValueError(
            f'deploy config {deploy_path} exports masks, but {model_path} '
            f'has no mask head; use configs/deploy/detection_*.py')


def _existing(path, what):
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} {path} does not exist')
    return path


@dataclass
class Exported:
    """What :func:`export` wrote: the ONNX file, the deploy form's config
    and checkpoint, and the seconds ``torch2onnx`` took."""
    onnx: str
    model_cfg: str
    checkpoint: str
    seconds: float

    @property
    def megabytes(self):
        return os.path.getsize(self.onnx) / 2**20


def export(deploy_cfg_path, model_cfg_path, checkpoint, out_dir, image,
           device='cpu', cfg_options=None):
    """Re-parameterize the trained model into ``out_dir`` and export it with
    MMDeploy's ``torch2onnx`` (``image`` sets the traced input); return
    an :class:`Exported`."""
    check_mmdeploy()
    from mmdeploy.apis import torch2onnx
    from mmdeploy.utils import load_config
    _existing(deploy_cfg_path, 'deploy config')
    _existing(checkpoint, 'checkpoint')
    _existing(image, 'image')
    deploy_cfg = load_config(deploy_cfg_path)[0]
    model_cfg = read_config(model_cfg_path, cfg_options)
    check_pair(deploy_cfg, model_cfg, deploy_cfg_path, model_cfg_path)
    cfg_path, ckpt_path = reparameterize(model_cfg_path, checkpoint, out_dir,
                                         cfg_options)
    start = time.perf_counter()
    save_file = deploy_cfg.onnx_config.save_file
    torch2onnx(image, out_dir, save_file, deploy_cfg_path, cfg_path,
               ckpt_path, device)
    return Exported(osp.join(out_dir, save_file), cfg_path, ckpt_path,
                    time.perf_counter() - start)


class Predictors:
    """The trained PyTorch model, its deploy form in PyTorch and the
    exported backend model, fed the same inputs (MMDeploy's
    ``create_input``: the deploy config's input shape, the model config's
    test pipeline)."""

    def __init__(self, deploy_cfg_path, model_cfg_path, checkpoint,
                 exported, device='cpu', cfg_options=None):
        from mmdeploy.apis.utils import build_task_processor
        from mmdeploy.utils import get_input_shape, load_config
        deploy_cfg = load_config(deploy_cfg_path)[0]
        model_cfg = read_config(model_cfg_path, cfg_options)
        self.processor = build_task_processor(model_cfg, deploy_cfg, device)
        self.input_shape = get_input_shape(deploy_cfg)
        self.models = dict(
            pytorch=build_trained(read_config(model_cfg_path, cfg_options),
                                  checkpoint).to(device),
            pytorch_deploy=build_trained(read_config(exported.model_cfg),
                                         exported.checkpoint).to(device),
            onnxruntime=self.processor.build_backend_model(
                [exported.onnx], self.processor.update_data_preprocessor))

    def inputs(self, image):
        return self.processor.create_input(image, self.input_shape)[0]

    @torch.no_grad()
    def predict(self, name, images):
        model = self.models[name]
        return [model.test_step(self.inputs(img))[0] for img in images]

    def agreement(self, images):
        """ONNX Runtime against the trained PyTorch model on ``images``: box,
        label and mask agreement (detectors) or pixel agreement
        (segmentors)."""
        for img in images:
            _existing(img, 'image')
        want = self.predict('pytorch', images)
        got = self.predict('onnxruntime', images)
        if 'pred_sem_seg' in want[0]:
            return segmentation_agreement(want, got)
        return detection_agreement(want, got)

    @torch.no_grad()
    def evaluate(self, name):
        """The model config's test metric of model ``name`` on its test set,
        read through MMDeploy's dataset and dataloader."""
        from mmengine.evaluator import Evaluator
        cfg = self.processor.model_cfg
        loader = copy.deepcopy(cfg.test_dataloader)
        loader.dataset = self.processor.build_dataset(loader.dataset)
        evaluator = Evaluator(cfg.test_evaluator)
        evaluator.dataset_meta = loader.dataset.metainfo
        model = self.models[name]
        for batch in self.processor.build_dataloader(loader):
            evaluator.process(model.test_step(batch), batch)
        return evaluator.evaluate(len(loader.dataset))

    def seconds_per_image(self, images, names=('pytorch_deploy',
                                               'onnxruntime'), repeat=3):
        """Best-of-``repeat`` seconds per image of each model, side by side
        in turn on the same inputs (made beforehand), after one warm-up
        pass (the first call of 'auto' measures its cases)."""
        data = [self.inputs(img) for img in images]
        runs = {name: [] for name in names}
        with torch.no_grad():
            for round_ in range(repeat + 1):
                for name in names:
                    start = time.perf_counter()
                    for d in data:
                        self.models[name].test_step(d)
                    if round_:
                        runs[name].append(
                            (time.perf_counter() - start) / len(data))
        return {name: min(times) for name, times in runs.items()}
