#!/usr/bin/env bash
# `make deploy-deps`: MMDeploy beside the pinned stack in $VENV. MMDeploy
# goes in with --no-deps (its pins, protobuf<=3.20.2 and onnx, would
# downgrade the stack's, which it runs fine with), then its runtime needs
# (requirements/deploy.txt). pip's note that MMDeploy's pins are unmet is
# expected and filtered; any other message and pip's exit status are kept.
set -euo pipefail
VENV=${VENV:-.venv}
MMDEPLOY=${MMDEPLOY:-mmdeploy==1.3.1}
PIP="$VENV/bin/pip"

quiet_pip() {
  "$PIP" "$@" 2>&1 | { grep -v -e "^WARNING: Location '.*' is ignored" \
    -e "dependency resolver does not currently" \
    -e "^mmdeploy .* requires" || true; }
}

quiet_pip install -q --no-deps "$MMDEPLOY"
quiet_pip install -q -r requirements/deploy.txt
"$VENV/bin/python" -c "from mmrep.mmdeploy_compat import check_mmdeploy; \
print('[deploy-deps] MMDeploy', check_mmdeploy(), 'installed in $VENV')"
