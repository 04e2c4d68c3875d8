#!/usr/bin/env bash
# Test on a Slurm cluster:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#   tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
# GPUS_PER_NODE=0 runs on a CPU-only cluster (no --gres request).
set -euo pipefail
if [[ $# -lt 4 ]]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]" >&2
  exit 2
fi
exec "$(dirname "$0")/launch/srun.sh" "$1" "$2" test.py "${@:3}"
