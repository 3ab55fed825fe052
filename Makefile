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

LEVELS ?= 1
run: setup  ## broker + five services + the workbench + demo data (LEVELS=3: city, county, township); Ctrl-C stops
	$(RUN) python -m deploy.run --levels $(LEVELS)

TEST_ARGS ?=
TEST_WORKERS ?= 2
test: setup  ## the whole suite (SQLite; XF_TEST_DATABASE=postgresql for PostgreSQL; TEST_ARGS=tests/integration for a part)
	$(RUN) pytest -n $(TEST_WORKERS) --dist loadgroup $(TEST_ARGS)

test-fast: setup  ## unit tests only
	$(RUN) pytest tests/unit -q

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: setup
	$(RUN) mypy shared/src services/*/src deploy

DAYS ?= 1
clock-advance: setup  ## demo/test mode: move the clock of the running system, e.g. DAYS=12
	@$(RUN) xf-clock advance $(DAYS)d \
		$(foreach b,$(if $(filter 3,$(LEVELS)),800 801 802,800),\
		--wait http://127.0.0.1:$(b)1/healthz --wait http://127.0.0.1:$(b)2/healthz \
		--wait http://127.0.0.1:$(b)3/healthz --wait http://127.0.0.1:$(b)4/healthz \
		--wait http://127.0.0.1:$(b)5/healthz)

broker: setup  ## only the embedded broker, topics created
	$(RUN) python -m deploy.broker

clean:
	rm -rf var xinfang-*-data .pytest_cache .ruff_cache .mypy_cache
