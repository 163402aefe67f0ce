# papergraph: `make run` starts the server on the embedded default; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test seed migrate schema bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(PY) -m cli run

test: install
	$(PY) -m pytest

seed: install
	$(PY) -m cli seed --scale $${SCALE:-1}

migrate: install
	$(PY) -m cli migrate

bench: install
	$(PY) -m bench run $(BENCH_ARGS)

schema: install
	$(PY) -m cli export-schema > schema.graphql

clean:
	rm -rf $(VENV) papergraph.db
