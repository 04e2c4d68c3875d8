#!/usr/bin/env bash
# Train with torchrun on one or several machines:
#   tools/dist_train.sh CONFIG GPUS [train.py args]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT as in mmseg/mmdet.
# On machines without GPUs, GPUS CPU processes run with the gloo backend.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 CONFIG GPUS [train.py args]" >&2; exit 2
fi
exec "$(dirname "$0")/launch/torchrun.sh" "$2" train.py "$1" "${@:3}"
