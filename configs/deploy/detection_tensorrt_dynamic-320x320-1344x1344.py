# FCOS (or any detector's boxes) to TensorRT, images from 320 x 320 to
# 1344 x 1344 (optimized for 800 x 1344), batch 1. Not run in mmrep's CI
# (no GPU, no TensorRT).
_base_ = ['./_base_/detection_dynamic.py', './_base_/tensorrt.py']
backend_config = dict(model_inputs=[
    dict(input_shapes=dict(input=dict(min_shape=[1, 3, 320, 320],
                                      opt_shape=[1, 3, 800, 1344],
                                      max_shape=[1, 3, 1344, 1344])))
])
