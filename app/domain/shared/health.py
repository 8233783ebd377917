from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Readiness:
    database: bool
    migrations_current: bool
    detail: str = ""

    @property
    def ready(self) -> bool:
        return self.database and self.migrations_current


class HealthProbe(Protocol):
    async def readiness(self) -> Readiness: ...
