# Quick start: `make demo` (train + test on embedded toy data) and `make test`.
# Both create or reuse .venv and install the pinned stack (tools/setup_env.sh).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# make demo DEMO_IMPL=torch: the demo's large-kernel implementation
DEMO_IMPL ?= rows
# make test-torch TORCH=X: the backbone, op and checkpoint tests on torch X,
# in .venv-torchX (numpy < 2, mmengine, mmcv 2.1.0 without ops). make test
# also runs them on the oldest torch mmrep supports.
TORCH ?= 2.1.2
OLDEST_TORCH := 2.1.2
CORE_TESTS := tests/test_models tests/test_ops
# MMDeploy for `make deploy-deps` (docs/deployment.md)
MMDEPLOY := mmdeploy==1.3.1

.PHONY: setup deploy-deps demo test test-torch clean

setup:
	@bash tools/setup_env.sh

# MMDeploy beside the pinned stack (tools/install_deploy_deps.sh).
deploy-deps: setup
	@VENV=$(VENV) MMDEPLOY=$(MMDEPLOY) bash tools/install_deploy_deps.sh

demo: setup
	@$(PY) tools/toy_demo.py --impl $(DEMO_IMPL)

# Both runs always run; make test fails if either failed.
test: setup deploy-deps
	@bash tools/install_slurm.sh
	@$(PY) -m pytest $(PYTEST_ARGS) tests; full=$$?; \
	$(MAKE) --no-print-directory test-torch TORCH=$(OLDEST_TORCH); old=$$?; \
	exit $$(( full || old ))

test-torch:
	@VENV=.venv-torch$(TORCH) STACK=core TORCH_VERSION=$(TORCH) bash tools/setup_env.sh
	@echo "[test-torch] the backbone, op and checkpoint tests on torch $(TORCH)"
	@.venv-torch$(TORCH)/bin/python -m pytest $(PYTEST_ARGS) -m "not downstream" $(CORE_TESTS)

clean:
	rm -rf work_dirs data/toy_ade data/toy_coco
