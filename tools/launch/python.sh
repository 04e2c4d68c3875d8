# Sourced by the launchers: PYTHON is $PYTHON when set, else the project's
# virtualenv (make setup) when there is one, else the python of the PATH.
VENV_PYTHON="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv/bin/python"
if [[ -z "${PYTHON:-}" && -x "$VENV_PYTHON" ]]; then PYTHON=$VENV_PYTHON; fi
PYTHON=${PYTHON:-python}
