# make app: set up and run the main job on the embedded default; make test: set up and run every test.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.segwb-installed

.PHONY: setup fetch app test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

fetch: setup
	$(VENV)/bin/segwb fetch

app: fetch
	$(VENV)/bin/segwb tutorial semantic --out projects/semantic

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) benchmarks/benchmark_app_parity.py

clean:
	rm -rf projects tests/artifacts
