# TensorRT: needs TensorRT, a CUDA GPU and MMDeploy's TensorRT plugins
# (batched NMS, multi-level RoIAlign), which MMDeploy's wheel ships.
backend_config = dict(
    type='tensorrt', common_config=dict(fp16_mode=False,
                                        max_workspace_size=1 << 30))
