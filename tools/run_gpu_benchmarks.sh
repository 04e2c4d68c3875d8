#!/usr/bin/env bash
# One prepared run on a GPU machine (under 10 minutes on one H100/H200):
# check every depthwise implementation on the GPU against float64 (and the
# custom operator under torch.compile), then time the op (every
# implementation and 'auto', fp32 and bf16; the JSON's auto_rejected lists
# what 'auto''s own check against PyTorch's convolution removed on this GPU)
# and the 31B backbone ('torch' against 'auto', eager and torch.compile,
# bf16 autocast, batch 64, 224x224; timm's ConvNeXt-B and Swin-B beside it
# when timm is installed). With the argument 'shapes', a second run
# instead: 'auto' on variable shapes (50 ADE20K-like whole images through
# UperNet-31B's test path; 30 Mask R-CNN-31B training steps at the sizes
# mmdet's ms-crop and ms-640-800 pipelines produce; each against every
# fixed implementation, with peak memory). Logs and tables go to $OUT
# (default work_dirs/bench); paste the tables into docs/benchmarks.md.
set -euo pipefail
OUT=${OUT:-work_dirs/bench}
PY=${PYTHON:-python}
mkdir -p "$OUT"
nvidia-smi | tee "$OUT/nvidia-smi.txt"
if [ "${1:-}" = shapes ]; then
    for task in ade20k coco; do
        "$PY" tools/benchmark_shapes.py "$task" \
            --json "$OUT/shapes_$task.json" --md "$OUT/shapes_$task.md" \
            2>&1 | tee "$OUT/shapes_$task.log"
    done
    exit 0
fi
"$PY" -m pytest -q tests/test_ops 2>&1 | tee "$OUT/correctness.log"
"$PY" tools/benchmark_dwconv.py --preset gpu --dtypes float32 bfloat16 \
    --json "$OUT/dwconv.json" --md "$OUT/dwconv.md" 2>&1 | tee "$OUT/dwconv.log"
"$PY" tools/benchmark.py configs/upernet/upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py \
    --backbone-only --batch 64 --shape 224 224 --amp --impls torch auto \
    --compile --timm --cfg-options model.backbone.with_cp=False \
    --json "$OUT/model.json" --md "$OUT/model.md" 2>&1 | tee "$OUT/model.log"
