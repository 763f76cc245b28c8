# make app: set up, fetch the default model and serve the Voila dashboard; make test: set up and run every test.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.segwb-installed

.PHONY: setup fetch app dashboard test bench clean

APP_PORT ?= 8866

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

fetch: setup
	$(VENV)/bin/segwb fetch

# The Voila dashboard on 127.0.0.1 (voila.json: lab template, no tracebacks, file allow-list); Ctrl-C stops it.
app: setup
	$(VENV)/bin/segwb fetch || echo "app: the default model could not be fetched now; the dashboard shows the zoo's status and why"
	$(MAKE) --no-print-directory dashboard

dashboard: setup
	@echo "segwb dashboard: http://127.0.0.1:$(APP_PORT)/  (Ctrl-C to stop)"
	$(VENV)/bin/voila notebooks/dashboard.ipynb --no-browser --Voila.ip=127.0.0.1 --port=$(APP_PORT)

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) benchmarks/benchmark_app_parity.py

clean:
	rm -rf projects tests/artifacts
