"""Every REST router under /api/v1, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
