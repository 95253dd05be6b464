# Two commands for a newcomer: `make demo` and `make test`. Each bootstraps
# .venv from the lock file on a machine that has only Python 3.11 and make.
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup demo test test-fast lint format bench soak clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check "uv>=0.4"

# Every extra but Spark (a cluster backend for linkage, hundreds of MB; its test skips
# without it): `uv sync --extra spark` adds it.
EXTRAS := --extra web --extra simulate --extra dask --extra postgres --extra demand --extra link
# --inexact keeps uv itself in the venv; the stamp re-syncs when the lock changes.
# --compile-bytecode, as pip does: otherwise the first run of a command compiles
# every module it imports (5.5 s for scikit-learn alone, measured 2026-12-03).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --inexact --compile-bytecode $(EXTRAS) --python $(PY)
	@touch $@

setup: $(VENV)/.synced

demo: setup
	$(VENV)/bin/systemic demo --out demo-output

test: setup
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup

test-fast: setup
	$(VENV)/bin/pytest -q -x -m "not slow and not browser and not postgres"

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

format: setup
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

bench: setup
	$(PY) benchmarks/run.py

soak: setup
	$(VENV)/bin/pytest -q -m soak tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache demo-output
