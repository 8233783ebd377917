"""Wire every bounded context. Each context module exposes ``wire(services, platform)``."""

from __future__ import annotations

from app.api.container import Services
from app.bootstrap.platform import Platform


def wire_contexts(services: Services, platform: Platform) -> None:
    from app.bootstrap import contexts

    for wire in contexts.WIRINGS:
        wire(services, platform)
