# UperNet: the label map (argmax in the graph), whole-image inference.
_base_ = ['./onnx.py']
codebase_config = dict(type='mmseg', task='Segmentation', with_argmax=True)
