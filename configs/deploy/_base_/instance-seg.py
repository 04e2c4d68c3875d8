# Mask R-CNN and Cascade Mask R-CNN: boxes, labels and each box's mask
# (28 x 28, pasted into the image by MMDeploy's backend model).
_base_ = ['./detection.py']
onnx_config = dict(output_names=['dets', 'labels', 'masks'])
codebase_config = dict(post_processing=dict(export_postprocess_mask=False))
