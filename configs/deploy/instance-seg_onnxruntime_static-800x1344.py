# Mask R-CNN / Cascade Mask R-CNN to ONNX Runtime at one input size: images
# are resized to 1344 x 800 (width x height, MMDeploy's order).
_base_ = ['./_base_/instance-seg.py', './_base_/onnxruntime.py']
onnx_config = dict(input_shape=[1344, 800])
