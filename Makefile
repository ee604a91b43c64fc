# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench docs clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,explore]"
	$(BIN)/python -m ipykernel install --sys-prefix --name jiuzhu_sim --display-name "Python (jiuzhu_sim)" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m jiuzhu_sim.demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_simulate.py
	$(BIN)/python benchmarks/bench_audit.py
	$(BIN)/python benchmarks/bench_population.py
	$(BIN)/python benchmarks/bench_scenario.py all

# regenerate the measured tables in docs/ (calibration and validation)
docs: $(STAMP)
	$(BIN)/python benchmarks/make_calibration.py
	$(BIN)/python benchmarks/make_validation.py

clean:
	rm -rf $(VENV) reports/*.html reports/*.ipynb build *.egg-info
