"""Deploy a trained detector or segmentor through MMDeploy to ONNX Runtime:
re-parameterize, export with MMDeploy's torch2onnx, run ONNX Runtime on
images and print its agreement with the trained PyTorch model
(``mmrep.apis.mmdeploy``).

  python tools/deploy/deploy_mmdeploy.py DEPLOY_CFG MODEL_CFG CHECKPOINT \\
      IMAGE [IMAGE ...] --work-dir DIR [--eval] [--speed] [--out RESULT.json]

DEPLOY_CFG: one of configs/deploy/*_onnxruntime_*.py. Needs MMDeploy
(`make deploy-deps`).
"""
import argparse
import json

from mmengine.config import DictAction

from mmrep.apis.mmdeploy import Predictors, export


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('deploy_cfg')
    parser.add_argument('model_cfg')
    parser.add_argument('checkpoint')
    parser.add_argument('images', nargs='+')
    parser.add_argument('--work-dir', required=True,
                        help='where the deploy checkpoint and ONNX go')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--eval', action='store_true',
                        help='also the test metric (mAP, mIoU) of PyTorch '
                        'and ONNX Runtime on the config\'s test set')
    parser.add_argument('--speed', action='store_true',
                        help='also seconds per image, PyTorch (deploy '
                        'form) and ONNX Runtime side by side')
    parser.add_argument('--out', help='also write the result (JSON) here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    exported = export(args.deploy_cfg, args.model_cfg, args.checkpoint,
                      args.work_dir, args.images[0], args.device,
                      args.cfg_options)
    result = dict(onnx=exported.onnx, export_s=round(exported.seconds, 1),
                  onnx_mb=round(exported.megabytes, 1))
    predictors = Predictors(args.deploy_cfg, args.model_cfg,
                            args.checkpoint, exported, args.device,
                            args.cfg_options)
    result['agreement'] = predictors.agreement(args.images)
    if args.eval:
        result['metrics'] = {name: predictors.evaluate(name)
                             for name in ('pytorch', 'onnxruntime')}
    if args.speed:
        result['seconds_per_image'] = predictors.seconds_per_image(
            args.images)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)
    return result


if __name__ == '__main__':
    main()
