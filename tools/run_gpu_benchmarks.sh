#!/usr/bin/env bash
# One prepared run on a GPU machine: check the Triton kernels on the GPU
# against float64, then time the op and the models; logs and tables go to
# $OUT (default work_dirs/bench). Paste the tables into docs/benchmarks.md.
set -euo pipefail
OUT=${OUT:-work_dirs/bench}
PY=${PYTHON:-python}
mkdir -p "$OUT"
nvidia-smi | tee "$OUT/nvidia-smi.txt"
"$PY" -m pytest -q tests/test_ops 2>&1 | tee "$OUT/correctness.log"
"$PY" tools/benchmark_dwconv.py --preset paper --dtypes float32 bfloat16 \
    --json "$OUT/dwconv.json" --md "$OUT/dwconv.md" 2>&1 | tee "$OUT/dwconv.log"
CFG=configs/upernet/replknet31b_ade20k.py
for impl in torch triton; do
  "$PY" tools/benchmark.py "$CFG" --backbone-only --batch 64 --shape 224 224 \
      --amp --impl "$impl" --cfg-options model.backbone.with_cp=False \
      --json "$OUT/model_$impl.json" --md "$OUT/model_$impl.md" \
      2>&1 | tee "$OUT/model_$impl.log"
done
"$PY" tools/benchmark.py "$CFG" --backbone-only --batch 64 --shape 224 224 \
    --amp --impl torch --timm --cfg-options model.backbone.with_cp=False \
    --json "$OUT/model_timm.json" --md "$OUT/model_timm.md" \
    2>&1 | tee "$OUT/model_timm.log"
