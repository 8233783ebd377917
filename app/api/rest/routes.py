"""Every REST router under /api/v1, one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.rest import (
    appeals,
    auth,
    badges,
    locate,
    me,
    officers,
    org_units,
    teams,
    training,
    volunteers,
    watch_points,
)
from app.api.rest import devices as device_routes
from app.api.rest import emergency as emergency_routes
from app.api.rest import emergency_nearby as emergency_nearby_routes
from app.api.rest import emergency_stream as emergency_stream_routes
from app.api.rest import hazards as hazard_routes
from app.api.rest import help_requests as help_routes
from app.api.rest import incidents as incident_routes
from app.api.rest import media as media_routes
from app.api.rest import notifications as notification_routes
from app.api.rest import payments as payment_routes
from app.api.rest import points as points_routes
from app.api.rest import review as review_routes
from app.api.rest import rewards as reward_routes
from app.api.rest import sync as sync_routes
from app.api.rest import tips as tip_routes

ROUTERS: list[APIRouter] = []
# FastAPI tries the routes in this order on every request (app/main.py registers them
# flat), each one a regular-expression match, so the busiest paths come first: the
# volunteer app's tip-offs and the officer queue, hazard reports, then what every app
# polls (sync, inbox) and uploads. No two routers share a path.
ROUTERS += [tip_routes.router, hazard_routes.router]
ROUTERS += [sync_routes.router, notification_routes.router, media_routes.router]
ROUTERS += [org_units.router, watch_points.router, locate.router]
ROUTERS += [auth.router, officers.router]
ROUTERS += [volunteers.router, teams.router, training.router, badges.router, me.router]
ROUTERS += [device_routes.router]
ROUTERS += [appeals.router]
ROUTERS += [help_routes.router]
ROUTERS += [emergency_routes.router, emergency_nearby_routes.router]
ROUTERS += [points_routes.router, reward_routes.router, payment_routes.router]
ROUTERS += [review_routes.router]
ROUTERS += [incident_routes.router]
ROUTERS += [emergency_stream_routes.router]
