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
exec "$(dirname "$0")/launch/srun.sh" "$1" "$2" train.py "${@:3}"
