# make app: set up, fetch the default model and serve the Voila dashboard; make test: set up and run every test.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.segwb-installed

.PHONY: setup fetch app dashboard test bench parity-save parity clean

APP_PORT ?= 8866

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

fetch: setup
	$(VENV)/bin/segwb fetch

# The Voila dashboard on 127.0.0.1 (voila.json: the segwb template, i.e. Voila's lab page without its CDN links; no
# tracebacks; a file allow-list). widgets.serve starts Voila with that template findable; Ctrl-C stops it.
app: setup
	$(VENV)/bin/segwb fetch || echo "app: the default model could not be fetched now; the dashboard shows the zoo's status and why"
	$(MAKE) --no-print-directory dashboard

dashboard: setup
	@echo "segwb dashboard: http://127.0.0.1:$(APP_PORT)/  (Ctrl-C to stop)"
	$(PY) -m widgets.serve notebooks/dashboard.ipynb --no-browser --Voila.ip=127.0.0.1 --port=$(APP_PORT)

# The architecture first (layers, no cycles: pyproject.toml's import-linter contracts), then every test.
test: setup
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

bench: setup
	$(PY) benchmarks/benchmark_app_parity.py

# Report parity across a code change: `make parity-save` before it, `make parity` after (needs SEGWB_FIXTURES).
PARITY ?= .cache/report-parity
parity-save: setup
	$(PY) benchmarks/report_parity.py --save $(PARITY)

parity: setup
	$(PY) benchmarks/report_parity.py --against $(PARITY)

clean:
	rm -rf projects tests/artifacts
