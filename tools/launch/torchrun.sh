#!/usr/bin/env bash
# What tools/dist_train.sh and tools/dist_test.sh run:
#   tools/launch/torchrun.sh NPROC TOOL [tool args]
# starts NPROC processes of tools/TOOL (train.py or test.py) with torchrun,
# with --launcher pytorch. Multi-node: NNODES, NODE_RANK, MASTER_ADDR and
# PORT as in mmseg/mmdet. On machines without GPUs, the processes run on
# the CPU with the gloo backend.
set -euo pipefail
NPROC=$1
TOOL=$2
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/python.sh"
PYTHONPATH="$HERE/../..:${PYTHONPATH:-}" \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROC" --master_port="${PORT:-29500}" \
    "$HERE/../$TOOL" --launcher pytorch "${@:3}"
