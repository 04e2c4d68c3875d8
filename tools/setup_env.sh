#!/usr/bin/env bash
# Create (or reuse) a virtualenv and install mmrep's stack into it.
#
# STACK=full (default; .venv): the pinned OpenMMLab stack. mmcv 2.1.0 is built
#   from source once with its compiled ops; the wheel is cached in
#   $MMREP_WHEEL_CACHE (default ~/.cache/mmrep/wheels) so later clones reuse it.
# STACK=core (make test-torch): torch $TORCH_VERSION with numpy < 2, mmengine,
#   mmcv 2.1.0 without ops (PyPI's mmcv-lite) and the test tools: what the
#   backbone, op and checkpoint tests need, on any torch mmrep supports.
set -euo pipefail

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
STACK=${STACK:-full}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
WHEELS=${MMREP_WHEEL_CACHE:-$HOME/.cache/mmrep/wheels}
STAMP="$VENV/.mmrep-stack"
# The stack is reinstalled when any requirements file, the stack or torch changes.
WANT=$( (cat requirements.txt requirements/*.txt; echo "$STACK $TORCH_VERSION") \
  | sha256sum | cut -d' ' -f1)

step() { echo "[setup] $*"; }
# pip, without the lines some machines' pip.conf adds for every missing
# local index folder; pip's own exit status is kept (pipefail).
quiet_pip() {
  "$PIP" "$@" 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; }
}
fail() { echo "[setup] FAILED at step: $1" >&2; echo "[setup] $2" >&2; exit 1; }

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  step "reusing $VENV (stack already installed); refreshing the editable mmrep install"
  PIP="$VENV/bin/pip"
  quiet_pip install -q --no-deps --no-build-isolation -e . \
    || fail "pip install -e ." "could not install mmrep itself; see pip's message above"
  exit 0
fi

step "creating virtualenv $VENV"
[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV" \
  || fail "venv" "'$PYTHON -m venv' failed; install python3-venv"
PIP="$VENV/bin/pip"

step "installing build tools and torch"
quiet_pip install -q 'pip>=23' 'setuptools>=77,<82' wheel ninja \
  || fail "build tools" "pip could not install setuptools<82/wheel/ninja"
if [[ "$STACK" == core ]]; then
  step "installing torch $TORCH_VERSION, numpy < 2, mmengine, mmcv-lite 2.1.0 and the test tools"
  quiet_pip install -q "torch==$TORCH_VERSION" 'numpy<2' -r requirements.txt \
    mmcv-lite==2.1.0 -r requirements/tests-core.txt \
    || fail "core stack" "pip could not install torch==$TORCH_VERSION with numpy<2, requirements.txt and mmcv-lite==2.1.0"
  quiet_pip install -q --no-deps --no-build-isolation -e . \
    || fail "pip install -e ." "could not install mmrep itself"
  "$VENV/bin/python" -c "import mmrep" \
    || fail "import check" "mmrep does not import on torch $TORCH_VERSION (see the traceback above)"
  echo "$WANT" > "$STAMP"
  step "done: $("$VENV/bin/python" -c 'import torch, numpy, mmcv; print("torch", torch.__version__, "numpy", numpy.__version__, "mmcv (no ops)", mmcv.__version__)')"
  exit 0
fi
quiet_pip install -q "torch==$TORCH_VERSION" \
  || fail "torch" "pip could not install torch==$TORCH_VERSION"

step "installing mmengine and the runtime requirements"
quiet_pip install -q -r requirements.txt \
  || fail "requirements" "pip could not install requirements.txt"

mkdir -p "$WHEELS"
MMCV_WHEEL=$(ls "$WHEELS"/mmcv-2.1.0-*.whl 2>/dev/null | head -n1 || true)
if [[ -z "$MMCV_WHEEL" ]]; then
  step "building mmcv 2.1.0 with compiled ops (about 12 minutes on 2 cores; cached in $WHEELS)"
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} quiet_pip wheel --no-deps --no-build-isolation \
    -w "$WHEELS" mmcv==2.1.0 \
    || fail "mmcv build" "building mmcv 2.1.0 from source failed (needs gcc, g++, python headers)"
  MMCV_WHEEL=$(ls "$WHEELS"/mmcv-2.1.0-*.whl | head -n1)
else
  step "using cached mmcv wheel $MMCV_WHEEL"
fi
quiet_pip install -q "$MMCV_WHEEL" || fail "mmcv install" "could not install $MMCV_WHEEL"

step "installing mmsegmentation 1.2.2 and mmdet 3.3.0"
quiet_pip install -q -r requirements/openmmlab.txt \
  || fail "mmseg/mmdet" "pip could not install requirements/openmmlab.txt"

step "installing mmrep (editable) and the test tools"
quiet_pip install -q --no-deps --no-build-isolation -e . \
  || fail "pip install -e ." "could not install mmrep itself"
quiet_pip install -q -r requirements/tests.txt \
  || fail "test tools" "pip could not install requirements/tests.txt"

"$VENV/bin/python" -c "import mmcv.ops, mmseg, mmdet, mmrep" \
  || fail "import check" "the installed stack does not import (see the traceback above)"
echo "$WANT" > "$STAMP"
step "done: $("$VENV/bin/python" -c 'import torch, mmcv, mmseg, mmdet; print("torch", torch.__version__, "mmcv", mmcv.__version__, "mmseg", mmseg.__version__, "mmdet", mmdet.__version__)')"
