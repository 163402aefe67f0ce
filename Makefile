# papergraph: `make run` starts the server on the embedded default; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
UV := $(VENV)/bin/uv
UV_VERSION ?= 0.13.9
NODE_DIR := tests/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
GRAPHIQL_DIR := server/graphiql_assets
GRAPHIQL_STAMP := $(GRAPHIQL_DIR)/node_modules/.installed

.PHONY: install lock graphiql-assets supergraph scaleout haproxy-install node-install browser-install run test seed migrate schema bench soak clean

install: $(STAMP) graphiql-assets

# exactly the lock (uv.lock: every package, version and hash, the dev extra included), with uv installed into
# the venv by pip first; `--locked` refuses a lock that no longer matches pyproject.toml (run `make lock`).
# Re-runs whenever uv.lock or pyproject.toml changes.
$(STAMP): uv.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet 'uv==$(UV_VERSION)'
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --extra dev --inexact --quiet || \
	  { echo "papergraph: uv.lock does not match pyproject.toml: run 'make lock' and commit uv.lock" >&2; exit 1; }
	touch $(STAMP)

# after changing dependencies in pyproject.toml (or to move to newer releases: `make lock LOCK_ARGS=--upgrade`):
# re-resolve uv.lock for every platform and Python the project supports, then commit it
lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet 'uv==$(UV_VERSION)'
	$(UV) lock $(LOCK_ARGS)

# GraphiQL's assets (React, GraphiQL, ...; server/graphiql.py), from npm at the versions strawberry's page names,
# so GraphiQL works offline; without npm its page loads them from unpkg.com
graphiql-assets:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(GRAPHIQL_STAMP); \
	else echo "npm not found: GraphiQL will load its assets from unpkg.com"; fi

$(GRAPHIQL_STAMP): $(GRAPHIQL_DIR)/package-lock.json
	npm ci --prefix $(GRAPHIQL_DIR) --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(GRAPHIQL_STAMP)

# the Node side of the tests (graphql-http audits, @apollo/gateway), from the committed lock file; without
# npm the Node-backed tests skip locally and fail under CI
node-install:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(NODE_STAMP); \
	else echo "npm not found: the Node-backed tests will be skipped (and fail under CI)"; fi

$(NODE_STAMP): $(NODE_DIR)/package-lock.json
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# Debian's Chromium for the browser test (tests/browser/), installed as root when /usr/bin/chromium is missing (a
# test tool's own browser download does not work here); without it that test is skipped locally, and fails under CI
browser-install:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (apt-get install -y chromium)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || \
	      { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; } || \
	      echo "could not install chromium: the browser test will be skipped (and fail under CI)"; \
	  else echo "chromium not found and not root: the browser test will be skipped (and fail under CI)"; fi; \
	fi

# Debian's HAProxy for the scale-out test (tests/deploy/, bench/scaleout.py), installed the same way as root when
# missing; without it that test is skipped locally, and fails under CI
haproxy-install:
	@if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing haproxy (apt-get install -y haproxy)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y --no-install-recommends haproxy >/dev/null 2>&1 || \
	      { apt-get update >/dev/null && apt-get install -y --no-install-recommends haproxy >/dev/null; } || \
	      echo "could not install haproxy: the scale-out test will be skipped (and fail under CI)"; \
	  else echo "haproxy not found and not root: the scale-out test will be skipped (and fail under CI)"; fi; \
	fi

run: install
	$(PY) -m cli run

# the suite on PYTEST_WORKERS processes (pytest-xdist; 0 runs it in this one)
PYTEST_WORKERS ?= 2
test: install node-install browser-install haproxy-install
	$(PY) -m pytest -n $(PYTEST_WORKERS)

# a local supergraph (docs/supergraph.md): papergraph, @apollo/gateway and the example Node subgraph "delivery";
# SUBGRAPHS="name=http://host:port/graphql,..." composes yours too
supergraph: install node-install
	$(PY) -m sandbox.supergraph $(if $(SUBGRAPHS),--subgraph '$(SUBGRAPHS)')

seed: install
	$(PY) -m cli seed --scale $${SCALE:-1}

migrate: install
	$(PY) -m cli migrate

bench: install
	$(PY) -m bench run $(BENCH_ARGS)

soak: install
	$(PY) -m bench soak $(SOAK_ARGS)

# HAProxy in front of two processes: spread, one killed mid-payments, ledgers, throughput of one vs two
scaleout: install haproxy-install
	$(PY) -m bench scaleout --throughput-seconds $${SECONDS_EACH:-10} $(SCALEOUT_ARGS)

schema: install
	$(PY) -m cli export-schema > schema.graphql

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules $(GRAPHIQL_DIR)/node_modules papergraph.db
