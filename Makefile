# Quick start: `make demo` (train + test on embedded toy data) and `make test`.
# Both create or reuse .venv and install the pinned stack (tools/setup_env.sh).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo test clean

setup:
	@bash tools/setup_env.sh

demo: setup
	@$(PY) tools/toy_demo.py

test: setup
	@bash tools/install_slurm.sh
	@$(PY) -m pytest $(PYTEST_ARGS) tests

clean:
	rm -rf work_dirs data/toy_ade data/toy_coco
