"""Operator commands behind the CLI; each context module provides its own."""

from __future__ import annotations

from app.bootstrap.identity import create_officer as create_officer
from app.bootstrap.organisation import import_jurisdictions as import_jurisdictions
from app.bootstrap.volunteers import import_volunteers as import_volunteers
