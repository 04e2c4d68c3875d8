# segmentation with any batch and image size (MMDeploy's dynamic axes).
_base_ = ['./segmentation.py']
onnx_config = dict(dynamic_axes={
    'input': {0: 'batch', 2: 'height', 3: 'width'},
    'output': {0: 'batch', 2: 'height', 3: 'width'},
})
