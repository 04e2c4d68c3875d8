#!/usr/bin/env bash
# Train with torchrun on one or several machines:
#   tools/dist_train.sh CONFIG GPUS [train.py args]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT as in mmseg/mmdet.
# On machines without GPUs, GPUS CPU processes run with the gloo backend.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 CONFIG GPUS [train.py args]" >&2; exit 2
fi
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
HERE=$(cd "$(dirname "$0")" && pwd)
# $PYTHON when set, else the project's virtualenv (make setup) when there
# is one, else the python of the PATH.
VENV_PYTHON="$HERE/../.venv/bin/python"
if [[ -z "${PYTHON:-}" && -x "$VENV_PYTHON" ]]; then PYTHON=$VENV_PYTHON; fi
PYTHON=${PYTHON:-python}

PYTHONPATH="$HERE/..:${PYTHONPATH:-}" \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$HERE/train.py" "$CONFIG" --launcher pytorch "${@:3}"
