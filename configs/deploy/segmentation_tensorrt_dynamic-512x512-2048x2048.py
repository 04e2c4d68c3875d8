# UperNet to TensorRT, images from 512 x 512 to 2048 x 2048 (optimized for
# 1024 x 2048, Cityscapes), batch 1. Not run in mmrep's CI (no GPU, no
# TensorRT).
_base_ = ['./_base_/segmentation_dynamic.py', './_base_/tensorrt.py']
backend_config = dict(model_inputs=[
    dict(input_shapes=dict(input=dict(min_shape=[1, 3, 512, 512],
                                      opt_shape=[1, 3, 1024, 2048],
                                      max_shape=[1, 3, 2048, 2048])))
])
