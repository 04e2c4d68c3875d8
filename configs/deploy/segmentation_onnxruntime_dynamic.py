# UperNet to ONNX Runtime, any batch and image size.
_base_ = ['./_base_/segmentation_dynamic.py', './_base_/onnxruntime.py']
