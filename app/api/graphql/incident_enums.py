"""The GraphQL enums of incidents, registered once (every module using them imports this
first, so no type refers to the plain Python enum before it has its GraphQL name)."""

from __future__ import annotations

import strawberry

from app.domain.emergency.glossary import IncidentType, RaisedBy, Severity
from app.domain.emergency.incident import IncidentEventKind, IncidentStatus
from app.domain.emergency.incidents import ResponseAction
from app.domain.emergency.responses import ResponseStatus

strawberry.enum(IncidentType, name="IncidentType", description="急、难、险: what happened")
strawberry.enum(Severity, name="IncidentSeverity")
strawberry.enum(RaisedBy, name="IncidentRaisedBy")
strawberry.enum(IncidentStatus, name="IncidentStatus")
strawberry.enum(IncidentEventKind, name="IncidentEventKind")
strawberry.enum(ResponseStatus, name="IncidentResponseStatus")
strawberry.enum(ResponseAction, name="IncidentResponseAction")

registered = True
