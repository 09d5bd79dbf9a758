# Two commands do all the set-up on a fresh machine:
#   make demo   install into .venv, migrate, build and import the synthetic demo, serve it with its worker
#   make test   install the test tools and run the whole suite
# Everything else here is what those two are made of.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
DEMO_ARGS ?=
PYTEST_ARGS ?=

.PHONY: demo serve worker test lint format bench install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/python -m ml_services.pretrained.assets
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m ml_services.pretrained.assets --test-photos
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py make_demo $(DEMO_ARGS)
	$(MAKE) --no-print-directory serve

# The web server (manage.py serve: uvicorn, ASGI, HTTP and websockets, requests served concurrently) in the
# foreground, the task worker beside it. DEBUG stays off unless DJANGO_DEBUG=1 is set.
serve: install
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl+C stops the server and the worker)"
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	$(MAKE) --no-print-directory worker & \
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

# The database queue by default; RQ on Redis when REDIS_URL is set (see README). First the unfinished
# chunks of every job go back in the queue (those of a worker that died here are released at once).
worker: install
	$(BIN)/python manage.py resume_jobs
	@if [ -n "$$REDIS_URL" ]; then \
		exec $(BIN)/python manage.py rqworker --job-class django_tasks_rq.Job default; \
	else \
		exec $(BIN)/python manage.py db_worker; \
	fi

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every speed target lives in a benchmark that prints its figures (not in timed tests).
bench: install-dev
	$(BIN)/pip install --quiet -r requirements-bench.txt
	$(BIN)/python -m tests.benchmarks.geometry
	$(BIN)/python -m tests.benchmarks.importer --samples 100000
	$(BIN)/python -m tests.benchmarks.synthetic
	$(BIN)/python -m tests.benchmarks.corrections
	$(BIN)/python -m tests.benchmarks.editor_load
	$(BIN)/python -m tests.benchmarks.crosscheck
	$(BIN)/python -m tests.benchmarks.fbi
	$(BIN)/python -m tests.benchmarks.fbi_flags
	$(BIN)/python -m tests.benchmarks.simulated_study
	$(BIN)/python -m tests.benchmarks.scoring
	$(BIN)/python -m tests.benchmarks.pretrained
	$(BIN)/python -m tests.benchmarks.heldout --instants 12 --rigs var/ml/bench-rigs
	$(BIN)/python -m tests.benchmarks.export --samples 100000
	$(BIN)/python -m tests.benchmarks.demo_start

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .ruff_cache
