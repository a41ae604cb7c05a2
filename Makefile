# betalab: the two set-up commands are `make reproduce` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2
# Test oracles installed without their dependencies: disentanglement_lib's metric modules need
# gin's decorators and absl's logging, not its TensorFlow stack (tests/deep/test_higgins_metric.py).
ORACLES := "disentanglement-lib==1.5" "gin-config==0.4.0" "absl-py>=1" "six>=1.16"
# One BLAS thread per process: the parallelism is across processes (--jobs, pytest -n).
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: install reproduce reproduce-full test test-slow notebooks bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# torch first and pinned: an unpinned torch would pull gigabytes of CUDA wheels.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install "torch==2.13.0"
	$(BIN)/python -m pip install -e ".[test]"
	$(BIN)/python -m pip install --no-deps $(ORACLES)
	touch $(STAMP)

install: $(STAMP)

reproduce: $(STAMP)
	MPLBACKEND=Agg $(BIN)/betalab reproduce --jobs $(JOBS)

reproduce-full: $(STAMP)
	MPLBACKEND=Agg $(BIN)/betalab reproduce --full --jobs $(JOBS)

test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS)

test-slow: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --runslow

notebooks: $(STAMP)
	$(BIN)/python -m pip install -e ".[test,notebooks]"
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf results .pytest_cache
