"""Capabilities backed by certificates (持证上岗).

A member may claim a capability only with a certificate for it that is valid on the day.
Certificates come in as plain values (from the unified training records): a course code,
the capability the course declares (if any), the completion day and the expiry day.

Validity follows the training records exactly: valid from the completion day up to but
*not including* the expiry day (the expiry day is the first day it no longer counts).

A certificate proves a capability when its course declares that capability, or when its
course code is one the district accepts for it (``CapabilityCourses``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from app.domain.emergency.errors import CapabilityNotCertified
from app.domain.emergency.glossary import Capability

CapabilityCourses = Mapping[Capability, frozenset[str]]

# Course codes accepted by default; districts may pass their own map.
DEFAULT_CAPABILITY_COURSES: CapabilityCourses = MappingProxyType(
    {
        Capability.FIRST_AID: frozenset({"first_aid", "cpr_aed", "red_cross_first_aid"}),
        Capability.FIRE: frozenset({"fire_first_response", "micro_fire_station"}),
        Capability.WATER_RESCUE: frozenset({"water_rescue", "lifeguard"}),
        Capability.CROWD_CONTROL: frozenset({"crowd_control", "security_guard"}),
        Capability.SEARCH: frozenset({"search", "search_and_rescue"}),
        Capability.TRAFFIC_CONTROL: frozenset({"traffic_control"}),
    }
)


@dataclass(frozen=True, slots=True)
class HeldCertificate:
    """One certificate a member holds, as plain data."""

    course_code: str
    expires_on: date | None = None  # None: does not expire
    capability: str | None = None  # what the course declares, if anything
    completed_on: date | None = None  # None: not known, take it as valid from the start

    def valid_on(self, day: date) -> bool:
        if self.completed_on is not None and day < self.completed_on:
            return False
        return self.expires_on is None or day < self.expires_on

    def proves(
        self, capability: Capability, courses: CapabilityCourses = DEFAULT_CAPABILITY_COURSES
    ) -> bool:
        return self.capability == capability.value or self.course_code in courses.get(
            capability, frozenset()
        )


def certified_capabilities(
    certificates: Iterable[HeldCertificate],
    on: date,
    courses: CapabilityCourses = DEFAULT_CAPABILITY_COURSES,
) -> frozenset[Capability]:
    """Every capability some certificate valid on ``on`` proves."""
    valid = [c for c in certificates if c.valid_on(on)]
    return frozenset(cap for cap in Capability if any(c.proves(cap, courses) for c in valid))


def check_claim(
    claimed: Iterable[Capability],
    certificates: Iterable[HeldCertificate],
    on: date,
    courses: CapabilityCourses = DEFAULT_CAPABILITY_COURSES,
) -> frozenset[Capability]:
    """The claimed capabilities, if each is backed by a certificate valid on ``on``;
    otherwise ``CapabilityNotCertified`` naming every capability without one."""
    wanted = frozenset(claimed)
    missing = wanted - certified_capabilities(certificates, on, courses)
    if missing:
        raise CapabilityNotCertified(c.value for c in missing)
    return wanted
