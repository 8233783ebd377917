"""An account may hold several staff roles bound to different units (an officer of one
station who is also auditor of another, a district admin who audits a second district).
Each role acts only within its own units: reading rights gained through the auditor role
never turn into writing rights of another role."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support.auth import DEFAULT_PASSWORD, auth, officer_token
from support.org import OrgTree, make_org_tree
from support.volunteers import registration

from app.domain.identity.officers import NewOfficer, OfficerService
from app.domain.shared.ids import new_id
from app.domain.shared.scope import system_scope
from app.infra.db.tables.identity import account_roles
from app.infra.db.tables.organisation import org_units

SF = async_sessionmaker[AsyncSession]


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def _unit_id(sf: SF, code: str) -> uuid.UUID:
    async with sf() as s:
        found = await s.scalar(sa.select(org_units.c.id).where(org_units.c.code == code))
    assert found is not None
    return uuid.UUID(str(found))


async def _mixed_token(
    client: httpx.AsyncClient,
    app: Any,
    sf: SF,
    *,
    unit_code: str,
    role: str,
    extra_unit_code: str,
    extra_role: str = "auditor",
) -> str:
    """An account with ``role`` at ``unit_code`` plus ``extra_role`` at ``extra_unit_code``."""
    username = f"mixed-{uuid.uuid4().hex[:12]}"
    view = await app.state.services.get(OfficerService).create_officer(
        system_scope(),
        NewOfficer(username, DEFAULT_PASSWORD, unit_code, role, display_name="测试民警"),
    )
    extra_unit = await _unit_id(sf, extra_unit_code)
    async with sf() as s, s.begin():
        await s.execute(
            sa.insert(account_roles).values(
                id=new_id(),
                account_id=view.id,
                role=extra_role,
                unit_id=extra_unit,
                granted_by=view.id,
            )
        )
    r = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEFAULT_PASSWORD}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def test_officer_who_audits_another_station_cannot_manage_its_volunteers(
    client: httpx.AsyncClient, app: Any, session_factory: SF, tree: OrgTree
) -> None:
    other_officer = await officer_token(client, app, unit_code=tree.other_station_code)
    body = registration(tree) | {"station_id": str(tree.other_station_id)}
    body.pop("community_id")
    created = await client.post("/api/v1/volunteers", json=body, headers=auth(other_officer))
    assert created.status_code == 201, created.text
    vid = created.json()["id"]

    mixed = await _mixed_token(
        client,
        app,
        session_factory,
        unit_code=tree.station_code,
        role="officer",
        extra_unit_code=tree.other_station_code,
    )
    # The auditor role lets the account read the other station's archive...
    seen = await client.get(f"/api/v1/volunteers/{vid}", headers=auth(mixed))
    assert seen.status_code == 200
    # ...with personal data masked: it is not the officer of that station.
    assert seen.json()["full_personal_data"] is False
    # ...but not change it.
    r = await client.post(
        f"/api/v1/volunteers/{vid}/background-checks",
        json={"result": "passed"},
        headers=auth(mixed),
    )
    assert r.status_code == 403, r.text
    r = await client.post(
        f"/api/v1/volunteers/{vid}/status",
        json={"to": "retired", "reason": "测试"},
        headers=auth(mixed),
    )
    assert r.status_code == 403, r.text
    # Its own station stays writable.
    own = await client.post("/api/v1/volunteers", json=registration(tree), headers=auth(mixed))
    assert own.status_code == 201, own.text


async def test_station_admin_who_audits_another_station_cannot_create_its_officers(
    client: httpx.AsyncClient, app: Any, session_factory: SF, tree: OrgTree
) -> None:
    mixed = await _mixed_token(
        client,
        app,
        session_factory,
        unit_code=tree.station_code,
        role="station_admin",
        extra_unit_code=tree.other_station_code,
    )
    body = {
        "username": f"new-{uuid.uuid4().hex[:10]}",
        "password": DEFAULT_PASSWORD,
        "unit_code": tree.other_station_code,
        "role": "officer",
    }
    r = await client.post("/api/v1/officers", json=body, headers=auth(mixed))
    assert r.status_code == 403, r.text
    body["unit_code"] = tree.station_code
    r = await client.post("/api/v1/officers", json=body, headers=auth(mixed))
    assert r.status_code == 201, r.text


async def test_district_admin_who_audits_another_district_cannot_grant_there(
    client: httpx.AsyncClient, app: Any, session_factory: SF, tree: OrgTree
) -> None:
    other = await make_org_tree(app)
    mixed = await _mixed_token(
        client,
        app,
        session_factory,
        unit_code=tree.district_code,
        role="district_admin",
        extra_unit_code=other.district_code,
    )
    body = {
        "username": f"new-{uuid.uuid4().hex[:10]}",
        "password": DEFAULT_PASSWORD,
        "unit_code": other.district_code,
        "role": "district_admin",
    }
    r = await client.post("/api/v1/officers", json=body, headers=auth(mixed))
    assert r.status_code == 403, r.text


async def test_officer_who_audits_another_station_cannot_place_or_edit_its_watch_points(
    client: httpx.AsyncClient, app: Any, session_factory: SF, tree: OrgTree
) -> None:
    other_officer = await officer_token(client, app, unit_code=tree.other_station_code)
    lon, lat = tree.inside_other
    point = {"name": "新城守望点", "location": {"lon": lon, "lat": lat}, "radius_m": 50}
    created = await client.post("/api/v1/watch-points", json=point, headers=auth(other_officer))
    assert created.status_code == 201, created.text
    pid = created.json()["id"]

    mixed = await _mixed_token(
        client,
        app,
        session_factory,
        unit_code=tree.station_code,
        role="officer",
        extra_unit_code=tree.other_station_code,
    )
    r = await client.post("/api/v1/watch-points", json=point, headers=auth(mixed))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "watch_point.outside_jurisdiction"
    r = await client.patch(
        f"/api/v1/watch-points/{pid}",
        json={"name": "改名"},
        headers=auth(mixed) | {"If-Match": created.headers["etag"]},
    )
    assert r.status_code == 403, r.text
