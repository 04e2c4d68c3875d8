# FCOS (or any detector's boxes) to ONNX Runtime, any batch and image size.
_base_ = ['./_base_/detection.py', './_base_/onnxruntime.py']
onnx_config = dict(dynamic_axes={
    'input': {0: 'batch', 2: 'height', 3: 'width'},
    'dets': {0: 'batch', 1: 'num_dets'},
    'labels': {0: 'batch', 1: 'num_dets'},
})
