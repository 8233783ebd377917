"""ASGI entry point for uvicorn (``app.asgi:app_factory`` with ``--factory``)."""

from __future__ import annotations

from fastapi import FastAPI

from app.api.observability import configure_logging
from app.main import create_app
from app.settings import load_settings


def app_factory() -> FastAPI:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings)
