# Mask R-CNN / Cascade Mask R-CNN to ONNX Runtime, any batch and image size.
_base_ = ['./_base_/instance-seg_dynamic.py', './_base_/onnxruntime.py']
