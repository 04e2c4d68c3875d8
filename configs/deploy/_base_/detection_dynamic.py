# detection with any batch and image size (MMDeploy's dynamic axes).
_base_ = ['./detection.py']
onnx_config = dict(dynamic_axes={
    'input': {0: 'batch', 2: 'height', 3: 'width'},
    'dets': {0: 'batch', 1: 'num_dets'},
    'labels': {0: 'batch', 1: 'num_dets'},
})
