#!/usr/bin/env bash
# Train on a Slurm cluster:
#   [GPUS=16] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py args]
# GPUS is the number of tasks (processes). GPUS_PER_NODE=0 runs on a
# CPU-only cluster (no --gres request; gloo backend).
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG [train.py args]" >&2; exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
HERE=$(cd "$(dirname "$0")" && pwd)
# $PYTHON when set, else the project's virtualenv (make setup) when there
# is one, else the python of the PATH.
VENV_PYTHON="$HERE/../.venv/bin/python"
if [[ -z "${PYTHON:-}" && -x "$VENV_PYTHON" ]]; then PYTHON=$VENV_PYTHON; fi
PYTHON=${PYTHON:-python}

if [[ "$GPUS_PER_NODE" -gt 0 ]]; then
  GRES=(--gres="gpu:$GPUS_PER_NODE" --ntasks-per-node="$GPUS_PER_NODE")
else
  GRES=()
fi
# shellcheck disable=SC2086
PYTHONPATH="$HERE/..:${PYTHONPATH:-}" \
srun -p "$PARTITION" --job-name="$JOB_NAME" "${GRES[@]}" \
    --ntasks="$GPUS" --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$HERE/train.py" "$CONFIG" --launcher slurm "${@:4}"
