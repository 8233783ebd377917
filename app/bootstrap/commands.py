"""Operator commands behind the CLI; each context module provides its own."""

from __future__ import annotations
