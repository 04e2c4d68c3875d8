#!/usr/bin/env bash
# What tools/slurm_train.sh and tools/slurm_test.sh run:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#   tools/launch/srun.sh PARTITION JOB_NAME TOOL [tool args]
# runs GPUS tasks (processes) of tools/TOOL (train.py or test.py) with srun,
# with --launcher slurm. GPUS_PER_NODE=0 runs on a CPU-only cluster (no
# --gres request; gloo backend).
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
TOOL=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/python.sh"
if [[ "$GPUS_PER_NODE" -gt 0 ]]; then
  GRES=(--gres="gpu:$GPUS_PER_NODE" --ntasks-per-node="$GPUS_PER_NODE")
else
  GRES=()
fi
# shellcheck disable=SC2086
PYTHONPATH="$HERE/../..:${PYTHONPATH:-}" \
exec srun -p "$PARTITION" --job-name="$JOB_NAME" "${GRES[@]}" \
    --ntasks="$GPUS" --cpus-per-task="${CPUS_PER_TASK:-5}" \
    --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
    "$PYTHON" -u "$HERE/../$TOOL" --launcher slurm "${@:4}"
