# The project's commands. `make demo` and `make test` do all their own set-up on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STACK := $(PY) -m localstack

# Local overrides (ports, passwords): copy .env.example to .env and edit. Every variable is exported.
-include .env
export

# Which local stack: `single` (the default: one broker, Spark local[*], the LocalExecutor) or `cluster` (three Kafka
# brokers, a Spark standalone master and two workers, Redis and two Celery workers; data in .local/cluster/). Give the
# same PROFILE to up, down, status, logs, clean and test.
PROFILE ?= $(or $(ELECTION_STACK_PROFILE),single)
ELECTION_STACK_PROFILE := $(PROFILE)

.DEFAULT_GOAL := help
.PHONY: help prereqs venv jars setup browser up down status logs clean check test test-unit test-compose docker-images lint format bench bench-profiles demo airflow

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

prereqs: ## check Python >= 3.11, Java 17+ and Maven are installed
	@scripts/check-prereqs.sh

venv: $(VENV)/.installed ## create .venv and install the lock (requirements.txt)

# uv installs the lock: exactly its packages (`pip sync`), linked from uv's cache (~/.cache/uv) when it has them,
# downloaded from PyPI when it does not. uv itself comes from PyPI through the venv's pip.
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv

$(VENV)/.installed: requirements.txt pyproject.toml
	@scripts/check-prereqs.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip sync --quiet --compile-bytecode --python $(PY) requirements.txt
	$(UV) pip install --quiet --python $(PY) --no-deps --no-build-isolation --editable .
	touch $@

jars: venv ## resolve the Kafka broker and Spark connector jars from Maven Central
	$(STACK) jars

setup: venv jars ## everything `make up` needs, nothing started (PROFILE=cluster: also Debian's redis-server)
ifeq ($(PROFILE),cluster)
	@scripts/install-redis.sh
endif

up: setup ## start PostgreSQL, Kafka, Airflow, the dashboard (PROFILE=cluster: the cluster) and wait until healthy
	$(STACK) up

down: ## stop what `make up` started, keeping data
	@if [ -x $(PY) ]; then $(STACK) down; fi

status: ## state, pid and memory of each service, URLs and the Airflow login
	@$(STACK) status

logs: ## last lines of every service log (SERVICE=kafka for one)
	@$(STACK) logs $(SERVICE)

clean: ## stop everything and delete .local/ (databases, topics, Airflow home, jars)
	@if [ -x $(PY) ]; then $(STACK) clean; else rm -rf .local; fi

airflow: ## run the airflow CLI against the stack: make airflow ARGS="dags list"
	@$(STACK) airflow $(ARGS)

test-unit: venv ## tests that need no service (both cores)
	$(PY) -m pytest -m "not integration" -n 2 --dist loadfile $(PYTEST_ARGS)

check: venv ## the quick loop (about a minute): lint, then every test that needs no service
	@began=$$(date +%s); $(MAKE) --no-print-directory lint test-unit; status=$$?; \
	  echo "make check: $$(( $$(date +%s) - began )) s"; exit $$status

browser: ## Debian's headless chromium for the browser tests (apt, when missing)
	@scripts/install-browser.sh

# Every part in turn, each on the stack it needs (tests/run.py): the single-node suite, the cluster profile's tests,
# docker-compose.yaml for real; then one table of where the time went, against each phase's budget.
# `make test PROFILE=cluster`: the cluster's tests only. ELECTION_TEST_STARTED: when make began (the set-up's time).
test: export ELECTION_TEST_STARTED := $(shell date +%s.%N)
test: setup browser ## start the services the tests need, then run every test (both profiles, then Compose)
ifeq ($(PROFILE),cluster)
	$(PY) tests/run.py --parts cluster -- $(PYTEST_ARGS)
else
	@scripts/install-redis.sh
	@scripts/install-docker.sh
	$(PY) tests/run.py -- $(PYTEST_ARGS)
endif

# docker-compose.yaml started for real by an engine of the test's own (Debian's docker.io, installed when missing),
# on stand-ins of the official images built with no registry (docker/offline/), one whole election through it.
# The local stacks must be down (the same ports).
test-compose: venv ## run docker-compose.yaml for real: a whole election through it (docker.io, built offline)
	@scripts/install-docker.sh
	$(PY) tests/run.py --parts compose -- $(PYTEST_ARGS)

docker-images: ## build the project's image for docker-compose.yaml (trusting SSL_CERT_FILE / PIP_CERT's CA bundle)
	docker/build-images.sh

lint: venv ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: up ## run every benchmark against the stack (the election stream paused meanwhile) and print its figures
	cd benchmarks && $(abspath $(PY)) -m helpers.run_all

bench-profiles: setup ## vote casting and the stream drain on the single node, then on the cluster profile, side by side
	@scripts/install-redis.sh
	cd benchmarks && $(abspath $(PY)) -m helpers.profiles $(BENCH_ARGS)

# Demo size and pace: about four minutes on a 2-core machine, the dashboard moving throughout.
DEMO_VOTERS ?= 20000
DEMO_CANDIDATES ?= 3
DEMO_TURNOUT ?=
DEMO_REPORTING_ORDER ?= east_to_west
DEMO_VOTES_PER_SECOND ?= 150

demo: up ## set up, start the stack, run a whole election through Airflow's REST API; the stack stays up
	$(PY) -m election.demo --voters $(DEMO_VOTERS) --candidates $(DEMO_CANDIDATES) \
	  $(if $(DEMO_TURNOUT),--turnout $(DEMO_TURNOUT)) --reporting-order $(DEMO_REPORTING_ORDER) \
	  --votes-per-second $(DEMO_VOTES_PER_SECOND)
