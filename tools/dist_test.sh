#!/usr/bin/env bash
# Test with torchrun: tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT as in mmseg/mmdet.
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 CONFIG CHECKPOINT GPUS [test.py args]" >&2; exit 2
fi
exec "$(dirname "$0")/launch/torchrun.sh" "$3" test.py "$1" "$2" "${@:4}"
