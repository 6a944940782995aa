# Ventanilla: `make run` starts the demo, `make test` runs the whole suite.
# Both install what is missing first (scripts/setup.sh). See README.md.

SHELL := /bin/bash
UV := scripts/uv.sh
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup run serve test lint format migrations-check bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 26

setup: ## install what is missing: Debian packages, uv, .venv, USWDS (fast when done)
	@scripts/setup.sh

run: setup ## migrate, load the demo, start web + worker + scheduler + mail sink (PORT=8000)
	@scripts/run.sh

serve: setup ## the production shape locally: gunicorn + WORKERS task workers + scheduler (SERVE_LOCAL=1 to try it)
	@scripts/serve.sh

test: setup ## run the whole test suite (PYTEST_ARGS="-k something" to narrow it)
	$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: setup ## ruff check + ruff format --check + .env.example covers every setting
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen python scripts/check_env_example.py

format: setup ## ruff format + ruff check --fix
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

migrations-check: setup ## fail if a model change has no migration
	$(UV) run --frozen python manage.py makemigrations --check --dry-run

bench: setup ## benchmarks (docs/performance.md): intake, checks, queue on 1,000,000 cases, page weight, WebM-to-MP4; then the figures
	@failed=""; \
	for name in queue pages conversion checks intake; do \
	  echo "[bench] $$name"; \
	  $(UV) run --frozen python bench/$${name}_bench.py || failed="$$failed $$name(exit $$?)"; \
	done; \
	[ -z "$$failed" ] || echo "[bench] missed a target or failed:$$failed"; \
	$(UV) run --frozen python bench/summary.py
