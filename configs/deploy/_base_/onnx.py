# MMDeploy's ONNX export settings (its configs/_base_/onnx_config.py
# fields). optimize=False: MMDeploy's graph optimizer needs its TorchScript
# extension, which the PyPI wheel lacks (it would only warn).
onnx_config = dict(
    type='onnx',
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=11,
    save_file='end2end.onnx',
    input_names=['input'],
    output_names=['output'],
    input_shape=None,
    optimize=False)
