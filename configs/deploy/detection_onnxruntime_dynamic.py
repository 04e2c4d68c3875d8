# FCOS (or any detector's boxes) to ONNX Runtime, any batch and image size.
_base_ = ['./_base_/detection_dynamic.py', './_base_/onnxruntime.py']
