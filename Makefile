# Shouwang — the two commands of the README, and the pieces they are made of.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:/usr/local/bin:$(PATH)
UV ?= uv
RUN := $(UV) run --frozen

.PHONY: run test bootstrap migrate seed serve lint typecheck contracts pytest openapi check-openapi worker

run: bootstrap migrate seed serve  ## set up everything and serve with demo data

test: bootstrap lint typecheck contracts pytest  ## the whole suite

bootstrap:
	@./scripts/bootstrap.sh

migrate:
	$(RUN) shouwang migrate

seed:
	$(RUN) shouwang seed-demo

serve:
	$(RUN) shouwang serve

worker:
	$(RUN) shouwang worker

lint:
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck:
	$(RUN) mypy

contracts:
	$(RUN) lint-imports

pytest:
	$(RUN) pytest -q

openapi:  ## regenerate the committed API contracts
	$(RUN) python -m app.contracts write

check-openapi:
	$(RUN) python -m app.contracts check
