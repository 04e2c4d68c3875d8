# UperNet to TensorRT at 512 x 512 (the ADE20K 512 crop), batch 1. Not run
# in mmrep's CI (no GPU, no TensorRT).
_base_ = ['./_base_/segmentation.py', './_base_/tensorrt.py']
onnx_config = dict(input_shape=[512, 512])
backend_config = dict(model_inputs=[
    dict(input_shapes=dict(input=dict(min_shape=[1, 3, 512, 512],
                                      opt_shape=[1, 3, 512, 512],
                                      max_shape=[1, 3, 512, 512])))
])
