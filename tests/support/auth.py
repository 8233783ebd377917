"""Sign-in helpers for API tests of every context.

- ``create_officer`` makes an officer account through the same service the CLI uses (as the
  operator, ``system_scope()``); the unit (by code) must exist already.
- ``officer_token`` creates an officer and signs in through ``POST /api/v1/auth/login``.
- ``resident_token`` signs a resident in through the SMS one-time-code flow
  (``POST /api/v1/auth/otp`` then ``/otp/verify``), reading the code from the dev SMS outbox
  file (``settings.sms_dev_outbox``).

OTP sending is limited per phone *and* per client IP (1 per minute, 5 per hour, 10 per
day). The limits are not relaxed for tests: instead ``resident_token`` sends its OTP calls
through its own ``httpx.AsyncClient`` whose ASGI transport reports a fresh random client
address (10.x.y.z), and uses a fresh random phone unless one is given. Passing the same
``phone`` twice within a minute therefore answers 429 by design.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from app.domain.identity.officers import NewOfficer, OfficerService
from app.domain.shared.scope import system_scope

DEFAULT_PASSWORD = "Correct-Horse-9-battery"
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


async def create_officer(
    app: Any,
    *,
    unit_code: str,
    role: str = "officer",
    username: str | None = None,
    password: str = DEFAULT_PASSWORD,
) -> tuple[str, str]:
    """Create an officer bound to ``unit_code`` with ``role``; returns (username, password)."""
    name = username or f"officer-{uuid.uuid4().hex[:12]}"
    service = app.state.services.get(OfficerService)
    await service.create_officer(
        system_scope(),
        NewOfficer(
            username=name,
            password=password,
            unit_code=unit_code,
            role=role,
            display_name="测试民警",
        ),
    )
    return name, password


async def officer_token(
    client: httpx.AsyncClient, app: Any, *, unit_code: str, role: str = "officer"
) -> str:
    """Create an officer and sign in with username and password; returns the access token."""
    username, password = await create_officer(app, unit_code=unit_code, role=role)
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def random_phone() -> str:
    return "139" + "".join(random.choices("0123456789", k=8))


def random_ip() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def last_code_for(outbox: Path, phone: str) -> str:
    """The code of the last dev SMS sent to ``phone`` (lines are appended)."""
    code: str | None = None
    for line in outbox.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("to") == phone:
            match = _CODE.search(record["text"])
            if match:
                code = match.group(1)
    assert code is not None, f"no SMS found for {phone}"
    return code


def asgi_app_of(client: httpx.AsyncClient) -> Any:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport), "needs a client over httpx.ASGITransport"
    return transport.app


def client_from(client: httpx.AsyncClient, ip: str | None = None) -> httpx.AsyncClient:
    """A new client on the same ASGI app, seen by the app as coming from ``ip``."""
    transport = httpx.ASGITransport(app=asgi_app_of(client), client=(ip or random_ip(), 1234))
    return httpx.AsyncClient(transport=transport, base_url=str(client.base_url))


async def resident_token(
    client: httpx.AsyncClient, settings: Any, *, phone: str | None = None
) -> tuple[str, str]:
    """Sign a resident in by SMS code; returns (access_token, phone).

    The account is created on first sign-in (kind "resident", role "resident")."""
    number = phone or random_phone()
    async with client_from(client) as own:
        sent = await own.post("/api/v1/auth/otp", json={"phone": number})
        assert sent.status_code == 202, sent.text
        code = last_code_for(Path(settings.sms_dev_outbox), number)
        verified = await own.post("/api/v1/auth/otp/verify", json={"phone": number, "code": code})
    assert verified.status_code == 200, verified.text
    return str(verified.json()["access_token"]), number


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
