# Two commands: `make run` (whole system with demo data) and `make test` (the whole suite).
# Needs only Python 3.11+, pip and make: uv is bootstrapped from pip when missing.
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen

.PHONY: bootstrap setup run test test-fast lint typecheck clock-advance broker bench clean

bootstrap:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || \
		$(PYTHON) -m pip install --quiet --disable-pip-version-check uv || \
		$(PYTHON) -m pip install --quiet --disable-pip-version-check --user uv || \
		$(PYTHON) -m pip install --quiet --disable-pip-version-check --break-system-packages uv

setup: bootstrap
	@$(UV) sync --frozen --quiet

run: setup  ## broker + four services + demo data; Ctrl-C stops everything
	$(RUN) python -m deploy.run

test: setup  ## the whole suite (SQLite; XF_TEST_DATABASE=postgresql for PostgreSQL)
	$(RUN) pytest

test-fast: setup  ## unit tests only
	$(RUN) pytest tests/unit -q

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: setup
	$(RUN) mypy shared/src services/*/src deploy

DAYS ?= 1
clock-advance: setup  ## demo/test mode: move the clock of the running system, e.g. DAYS=12
	$(RUN) xf-clock advance $(DAYS)d \
		--wait http://127.0.0.1:8001/healthz --wait http://127.0.0.1:8002/healthz \
		--wait http://127.0.0.1:8003/healthz --wait http://127.0.0.1:8004/healthz

broker: setup  ## only the embedded broker, topics created
	$(RUN) python -m deploy.broker

clean:
	rm -rf var .pytest_cache .ruff_cache .mypy_cache
