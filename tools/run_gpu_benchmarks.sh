#!/usr/bin/env bash
# One prepared run on a GPU machine (under 10 minutes on one H100/H200):
# check every depthwise implementation on the GPU against float64 (and the
# custom operator under torch.compile), then time the op (every
# implementation and 'auto', bf16 then fp32; the JSON's auto_rejected lists
# what 'auto''s own check against PyTorch's convolution removed on this GPU)
# and the 31B backbone ('torch' against 'auto', bf16 autocast, batch 64,
# 224x224; timm's ConvNeXt-B and Swin-B beside it when timm is installed),
# then the same under torch.compile. Each step runs under its own time limit
# (seconds, STEP_S) so that a step that runs long costs only itself: the
# rows it printed stay in its log; ONLY="NAME ..." runs only those steps
# (a rerun after a failed one). With the argument 'shapes', a second run
# instead: 'auto' on variable shapes (50 ADE20K-like whole images through
# UperNet-31B's test path; 30 Mask R-CNN-31B training steps at the sizes
# mmdet's ms-crop and ms-640-800 pipelines produce; each against every
# fixed implementation, with peak memory). Logs and tables go to $OUT
# (default work_dirs/bench); with BUNDLE=FILE.tgz they are also packed into
# that one file after every step. Paste the tables into docs/benchmarks.md.
set -uo pipefail
OUT=${OUT:-work_dirs/bench}
PY=${PYTHON:-python}
STEP_S=${STEP_S:-120}
CONFIG=configs/upernet/upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py
mkdir -p "$OUT"
nvidia-smi | tee "$OUT/nvidia-smi.txt"

step() {  # step NAME LIMIT_S COMMAND...: run it, log it, report its status
    local name=$1 limit=$2
    shift 2
    case " ${ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
    echo "== $name (at most ${limit}s)"
    timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.log"
    echo "== $name: exit ${PIPESTATUS[0]}" | tee -a "$OUT/steps.log"
    if [ -n "${BUNDLE:-}" ]; then tar czf "$BUNDLE" -C "$OUT" .; fi
}

if [ "${1:-}" = shapes ]; then
    for task in ade20k coco; do
        step "shapes_$task" 280 "$PY" tools/benchmark_shapes.py "$task" \
            --json "$OUT/shapes_$task.json" --md "$OUT/shapes_$task.md"
    done
    exit 0
fi
step correctness $((STEP_S * 3 / 4)) "$PY" -m pytest -q tests/test_ops
for dtype in bfloat16 float32; do
    step "dwconv_$dtype" "$STEP_S" "$PY" tools/benchmark_dwconv.py \
        --preset gpu --dtypes "$dtype" \
        --json "$OUT/dwconv_$dtype.json" --md "$OUT/dwconv_$dtype.md"
done
step model "$STEP_S" "$PY" tools/benchmark.py "$CONFIG" \
    --backbone-only --batch 64 --shape 224 224 --amp --impls torch auto \
    --timm --cfg-options default_scope=mmrep model.backbone.with_cp=False \
    --json "$OUT/model.json" --md "$OUT/model.md"
step model_compiled $((STEP_S * 3 / 2)) "$PY" tools/benchmark.py "$CONFIG" \
    --backbone-only --batch 64 --shape 224 224 --amp --impls auto \
    --compile --cfg-options default_scope=mmrep model.backbone.with_cp=False \
    --json "$OUT/model_compiled.json" --md "$OUT/model_compiled.md"
cat "$OUT/steps.log"
