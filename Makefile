# The two commands of the README: `make run` and `make test`. Both need only Python 3.11.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Start the service on http://127.0.0.1:8000 (embedded PostgreSQL unless DATABASE_URL is set).
run: $(STAMP)
	$(BIN)/python manage.py prepare_local
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## Lint (ruff, configured in pyproject.toml), then run the whole test suite (embedded PostgreSQL unless
## DATABASE_URL is set; Redis tests need REDIS_URL).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

## Benchmarks (never part of `make test`; see bench/README.md): quality, ranking at SIZES firms, embedding, and the
## database benchmarks at FIRMS firms (each in a database of its own, kept between runs); those that need
## Celery workers (digests, scale-out) run when REDIS_URL is set. The issue's full sizes:
##   make bench SIZES=10000,25000,50000,100000 FIRMS=100000
SIZES ?= 10000,25000
FIRMS ?= 20000
bench: $(STAMP)
	$(BIN)/python bench/matching_quality.py
	$(BIN)/python bench/recompute_scale.py --sizes $(SIZES)
	$(BIN)/python bench/embedding.py --firms 600
	$(BIN)/python bench/persistence.py --firms $(FIRMS)
	$(BIN)/python bench/incremental.py --firms $(FIRMS)
	$(BIN)/python bench/api_load.py --firms $(FIRMS) --seconds 15
	$(BIN)/python bench/scheduling.py
	$(BIN)/python bench/event_schedule.py
	$(BIN)/python bench/admin_pages.py --firms $(FIRMS) --copy-from bench_api_load
	@if [ -x /usr/bin/chromium ]; then $(BIN)/python bench/review_speed.py --firms $(FIRMS); \
	else echo "/usr/bin/chromium missing: bench/review_speed.py skipped (apt-get install chromium)"; fi
	@if [ -n "$$REDIS_URL" ]; then \
		$(BIN)/python bench/digests.py --firms $$(( $(FIRMS) / 10 )) && \
		$(BIN)/python bench/scale_out.py --firms $(FIRMS); \
	else echo "REDIS_URL unset: bench/digests.py and bench/scale_out.py skipped (they need a broker)"; fi
