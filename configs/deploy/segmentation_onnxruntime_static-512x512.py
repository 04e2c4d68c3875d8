# UperNet to ONNX Runtime at 512 x 512 (the ADE20K 512 crop).
_base_ = ['./_base_/segmentation.py', './_base_/onnxruntime.py']
onnx_config = dict(input_shape=[512, 512])
