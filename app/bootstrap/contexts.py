"""The list of context wirings, in dependency order."""

from __future__ import annotations

from collections.abc import Callable

from app.api.container import Services
from app.bootstrap import identity, organisation, volunteers
from app.bootstrap.platform import Platform

WIRINGS: list[Callable[[Services, Platform], None]] = []
WIRINGS.append(organisation.wire)  # first: other contexts route locations through it
WIRINGS.append(identity.wire)
WIRINGS.append(volunteers.wire)
