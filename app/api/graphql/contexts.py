"""The Query and Mutation types of each bounded context, merged into one schema."""

from __future__ import annotations

QUERIES: list[type] = []
MUTATIONS: list[type] = []
