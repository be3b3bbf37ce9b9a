PYTHON ?= python3
PYTEST_ARGS ?=
# pytest-xdist's worker processes for `make test` (0: the suite in one process)
TEST_WORKERS ?= 2

VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test soak conformance lint bench bench-quick clean schemas vendor

## venv: create .venv and install the package with its test and analytics extras
venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[test,analytics]'
	@touch $@

## run: serve the API on http://127.0.0.1:8000 with the embedded SQLite store
run: venv
	$(BIN)/subledger serve --host 127.0.0.1 --port 8000

## test: make sure PostgreSQL is up and chromium is installed, then run the whole test suite
# pytest's exit code is passed through as is (5 = no tests collected is a failure). Without
# chromium (not root, apt-get failing) the browser tests skip and say why.
test: venv
	@bash scripts/ensure-chromium.sh >/dev/null || echo "make test: the browser tests will skip (no chromium)" >&2
	@url="$$(bash scripts/ensure-postgres.sh)" && \
	SUBLEDGER_TEST_PG_ADMIN_URL="$$url" $(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=30 $(PYTEST_ARGS)

## soak: the crash tests at full length (the relay killed 20 times while commands are written)
soak: venv
	@url="$$(bash scripts/ensure-postgres.sh)" && \
	SUBLEDGER_TEST_PG_ADMIN_URL="$$url" SUBLEDGER_SOAK=1 \
	$(BIN)/python -m pytest -s tests/projections/test_relay_crash.py $(PYTEST_ARGS)

## conformance: schemathesis against the API, a longer budget, on SQLite and PostgreSQL
conformance: venv
	@url="$$(bash scripts/ensure-postgres.sh)" && \
	SUBLEDGER_TEST_PG_ADMIN_URL="$$url" SUBLEDGER_CONFORMANCE=long \
	$(BIN)/python -m pytest -s tests/api/test_api_conformance.py $(PYTEST_ARGS)

## lint: ruff (installed into the venv on first use)
lint: venv
	@$(BIN)/python -m ruff --version >/dev/null 2>&1 || $(BIN)/python -m pip install -q ruff
	$(BIN)/python -m ruff check .

## bench: benchmarks against the local PostgreSQL
bench: venv
	@url="$$(bash scripts/ensure-postgres.sh)" && \
	SUBLEDGER_TEST_PG_ADMIN_URL="$$url" $(BIN)/python -m bench

## bench-quick: every benchmark at small sizes (a few minutes; CI runs it, asserting no timing)
bench-quick: venv
	@url="$$(bash scripts/ensure-postgres.sh)" && \
	SUBLEDGER_TEST_PG_ADMIN_URL="$$url" $(BIN)/python -m bench --quick

## schemas: regenerate the JSON Schemas of the events under schemas/ (commit them)
schemas: venv
	$(BIN)/python -m subledger.schemas schemas

## vendor: refresh the dashboard's charting library from the npm registry (needs npm), checked
## against its pinned sha256; the app serves the committed copy, so `make run` needs no Node
CHARTJS_VERSION := 4.6.1
CHARTJS_SHA256  := 87364cc2b2a76a6684929e7d6b80b18a897794db38400caff1fcf1791c6925d2
vendor:
	bash scripts/vendor-chartjs.sh $(CHARTJS_VERSION) $(CHARTJS_SHA256) api/static/vendor

## clean: remove the venv, caches and local SQLite databases
clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .ruff_cache
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
	rm -f ./*.db ./*.db-wal ./*.db-shm
