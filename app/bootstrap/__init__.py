"""Composition-root helpers: each module wires one bounded context's adapters into the
service registry. Only app.main and app.cli import these."""
