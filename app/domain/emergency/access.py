"""Who sees an incident: staff see their station's (or district queue's) incidents; a
volunteer sees the incidents they raised, were alerted to, or whose alert went to one of
their units. Outside that the incident does not exist for them (404, not 403)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from app.domain.emergency.incident import Incident
from app.domain.shared.scope import Scope


def may_see(scope: Scope, incident: Incident, unit_ids: Iterable[uuid.UUID] = ()) -> bool:
    """``unit_ids``: the emergency units the caller is a member of."""
    if scope.unrestricted:
        return True
    if scope.is_staff:
        return scope.sees_station(incident.routing.station_id, incident.routing.district_id)
    if incident.raised_by_id == scope.account_id:
        return True
    if scope.volunteer_id is not None and scope.volunteer_id in incident.responses:
        return True
    return not incident.alerted_unit_ids.isdisjoint(unit_ids)
