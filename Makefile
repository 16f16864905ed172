# equiptwin: two commands on a fresh machine.
#   make demo   set up .venv and run the main job on sample_logs/ (SQLite store in out/demo)
#   make test   set up .venv with test extras and run ruff, mypy and pytest
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest test-pg bench lock clean sample-logs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/equiptwin --db sqlite:///out/demo/equiptwin.sqlite --pipeline pipelines/sample.toml demo sample_logs --out out/demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

# PostgreSQL-backed tests only (CI runs them through .ci/run with EQUIPTWIN_TEST_PG set).
test-pg: $(STAMP)
	$(BIN)/pytest -q -m postgres

# Regenerate the committed sample fleet (tests/sim checks it is reproduced byte for byte).
sample-logs: $(STAMP)
	$(BIN)/equiptwin simulate sample_logs --force --systems 12 --days 365 --seed 1 \
		--start 2025-10-01 --mix CT=0.45,XR=0.3,MR=0.25 --volume reduced --wear-scale 8 --workers 2

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

# Re-resolve the pinned versions after changing dependencies in pyproject.toml.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache
