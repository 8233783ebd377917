"""The officer console's tip tools over GraphQL, on a par with REST: counts per status,
the map, bulk assignment, revealing the informant (audited) and feedback templates. Same
services and checks; foreign ids are NotFound problems and change nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry import relay
from support.auth import auth, officer_token, resident_token
from support.org import OrgTree, make_org_tree
from support.tips import account_id, due_in, submit, tip_body

from app.infra.db.tables.platform import audit_log
from app.settings import Settings

BULK = """mutation($ids: [ID!]!, $officer: UUID!, $due: DateTime!) {
  bulkAssignTips(ids: $ids, officerId: $officer, dueAt: $due) {
    __typename
    ... on BulkAssignTipsPayload { tips { uuid status assigneeId } }
    ... on Problem { code message }
  } }"""
REVEAL = """mutation($id: ID!, $reason: String) {
  revealTipInformant(id: $id, reason: $reason) {
    __typename
    ... on TipInformantPayload { anonymous accountId contactPhone }
    ... on Problem { code message }
  } }"""
TEMPLATES = """query($station: ID!) {
  tipFeedbackTemplates(stationId: $station) { code outcome textZh textEn } }"""
SAVE = """mutation($station: ID!, $code: String!, $zh: String!, $en: String!) {
  saveTipFeedbackTemplate(stationId: $station, code: $code, outcome: VALID,
                          textZh: $zh, textEn: $en) {
    __typename
    ... on TipFeedbackTemplatePayload { template { code outcome textZh textEn } }
    ... on InvalidInput { code fields { field code } }
    ... on Problem { code message }
  } }"""


@pytest.fixture
async def tree(app: Any) -> OrgTree:
    return await make_org_tree(app)


async def post(client: httpx.AsyncClient, query: str, token: str, **variables: Any) -> Any:
    r = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=auth(token)
    )
    assert r.status_code == 200, r.text
    return r.json()


async def gql(client: httpx.AsyncClient, query: str, token: str, **variables: Any) -> Any:
    body = await post(client, query, token, **variables)
    assert "errors" not in body, body
    return body["data"]


def gid(type_name: str, value: Any) -> str:
    return str(relay.GlobalID(type_name, str(value)))


async def status_of(client: httpx.AsyncClient, token: str, tip_id: str) -> str:
    r = await client.get(f"/api/v1/tips/{tip_id}", headers=auth(token))
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


async def test_counts_and_map_match_rest(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    officer_id = await account_id(client, officer)
    first = str((await submit(client, resident, tip_body(tree)))["id"])
    await submit(client, resident, tip_body(tree, anonymous=True))
    await submit(client, resident, tip_body(tree, at=tree.inside_other))  # another station
    await gql(client, BULK, officer, ids=[gid("Tip", first)], officer=officer_id, due=due_in())

    counted = await gql(client, "{ tipCounts { status count } }", officer)
    by_status = {c["status"]: c["count"] for c in counted["tipCounts"]}
    rest_counts = (await client.get("/api/v1/tips/counts", headers=auth(officer))).json()
    assert by_status == {s.upper(): n for s, n in rest_counts.items()}
    assert by_status["SUBMITTED"] == 1
    assert by_status["TRIAGED"] == 1
    assert sum(by_status.values()) == 2

    mapped = await gql(client, "{ tipMap }", officer)
    rest_map = (await client.get("/api/v1/tips/map", headers=auth(officer))).json()
    assert mapped["tipMap"] == rest_map
    assert len(rest_map["features"]) == 2
    filtered = await gql(client, "{ tipMap(filter: {status: TRIAGED}, first: 5) }", officer)
    [feature] = filtered["tipMap"]["features"]
    assert feature["id"] == first
    assert feature["properties"]["status"] == "triaged"
    assert feature["geometry"]["coordinates"] == list(tree.inside)

    # Residents are not staff: errors with the domain's code, as REST's 403.
    for query in ("{ tipCounts { status count } }", "{ tipMap }"):
        body = await post(client, query, resident)
        [error] = body["errors"]
        assert error["extensions"]["code"] == "not_allowed"
        assert body["data"] is None
    assert (await client.get("/api/v1/tips/counts", headers=auth(resident))).status_code == 403


async def test_bulk_assign_is_all_or_nothing_and_foreign_ids_are_not_found(
    client: httpx.AsyncClient, app: Any, settings: Settings, tree: OrgTree
) -> None:
    resident, _ = await resident_token(client, settings)
    officer = await officer_token(client, app, unit_code=tree.station_code)
    officer_id = await account_id(client, officer)
    other = await officer_token(client, app, unit_code=tree.other_station_code)
    other_id = await account_id(client, other)
    auditor = await officer_token(client, app, unit_code=tree.station_code, role="auditor")
    a = str((await submit(client, resident, tip_body(tree)))["id"])
    b = str((await submit(client, resident, tip_body(tree)))["id"])
    foreign = str((await submit(client, resident, tip_body(tree, at=tree.inside_other)))["id"])

    def ids(*tips: str) -> list[str]:
        return [gid("Tip", t) for t in tips]

    cases = [
        (ids(a, foreign), officer_id, "NotFound", "tip.not_found"),
        (ids(a, str(uuid.uuid4())), officer_id, "NotFound", "tip.not_found"),
        ([ids(a)[0], gid("OrgUnit", tree.station_id)], officer_id, "NotFound", "tip.not_found"),
        (ids(a, b), other_id, "InvalidInput", "tip.unknown_officer"),
        ([], officer_id, "InvalidInput", "tip.bulk_size_invalid"),
        (ids(*[a] * 101), officer_id, "InvalidInput", "tip.bulk_size_invalid"),
    ]
    for tip_ids, assignee, typename, code in cases:
        data = await gql(client, BULK, officer, ids=tip_ids, officer=assignee, due=due_in())
        result = data["bulkAssignTips"]
        assert (result["__typename"], result["code"]) == (typename, code), tip_ids
        assert result["message"]
    denied = await gql(client, BULK, auditor, ids=ids(a, b), officer=officer_id, due=due_in())
    assert denied["bulkAssignTips"]["__typename"] == "NotAllowed"
    # Nothing was assigned by any failed attempt.
    for t in (a, b):
        assert await status_of(client, officer, t) == "submitted"

    done = await gql(client, BULK, officer, ids=ids(a, b, a), officer=officer_id, due=due_in())
    tips = done["bulkAssignTips"]["tips"]
    assert sorted(t["uuid"] for t in tips) == sorted([a, b])
    assert {(t["status"], t["assigneeId"]) for t in tips} == {("TRIAGED", officer_id)}
    assert await status_of(client, other, foreign) == "submitted"


async def test_reveal_informant_as_rest_and_audited(
    client: httpx.AsyncClient,
    app: Any,
    settings: Settings,
    tree: OrgTree,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    resident, _ = await resident_token(client, settings)
    resident_id = await account_id(client, resident)
    handler = await officer_token(client, app, unit_code=tree.station_code)
    handler_id = await account_id(client, handler)
    colleague = await officer_token(client, app, unit_code=tree.station_code)
    other = await officer_token(client, app, unit_code=tree.other_station_code)
    named = str(
        (await submit(client, resident, tip_body(tree, contact_phone="138 0013 8000")))["id"]
    )
    anonymous = str((await submit(client, resident, tip_body(tree, anonymous=True)))["id"])
    await gql(client, BULK, handler, ids=[gid("Tip", named)], officer=handler_id, due=due_in())

    # The handler needs no reason.
    mine = (await gql(client, REVEAL, handler, id=gid("Tip", named)))["revealTipInformant"]
    assert mine == {
        "__typename": "TipInformantPayload",
        "anonymous": False,
        "accountId": resident_id,
        "contactPhone": "13800138000",
    }
    # Other station staff must give one.
    bare = (await gql(client, REVEAL, colleague, id=gid("Tip", named)))["revealTipInformant"]
    assert (bare["__typename"], bare["code"]) == ("InvalidInput", "tip.reason_required")
    why = "核实线索需要联系举报人"
    ok = await gql(client, REVEAL, colleague, id=gid("Tip", named), reason=why)
    assert ok["revealTipInformant"]["accountId"] == resident_id
    hidden = await gql(client, REVEAL, colleague, id=gid("Tip", anonymous), reason=why)
    assert hidden["revealTipInformant"] == {
        "__typename": "TipInformantPayload",
        "anonymous": True,
        "accountId": None,
        "contactPhone": None,
    }
    # Outside the station, or not a tip id: not found, and nothing is audited.
    for token, node in (
        (other, gid("Tip", named)),
        (handler, gid("OrgUnit", named)),
        (resident, gid("Tip", named)),
    ):
        miss = (await gql(client, REVEAL, token, id=node, reason=why))["revealTipInformant"]
        assert (miss["__typename"], miss["code"]) == ("NotFound", "tip.not_found")

    async with session_factory() as s:
        rows = (
            await s.execute(
                sa.select(audit_log.c.record_id, audit_log.c.detail)
                .where(
                    audit_log.c.record_id.in_([uuid.UUID(named), uuid.UUID(anonymous)]),
                    audit_log.c.action == "tip.reveal_informant",
                )
                .order_by(audit_log.c.seq)
            )
        ).all()
    assert [(str(r.record_id), r.detail["as_handler"], r.detail["reason"]) for r in rows] == [
        (named, True, None),
        (named, False, why),
        (anonymous, False, why),
    ]
    assert "13800138000" not in str(rows)


async def test_feedback_templates_per_station(
    client: httpx.AsyncClient, app: Any, tree: OrgTree
) -> None:
    officer = await officer_token(client, app, unit_code=tree.station_code)
    admin = await officer_token(client, app, unit_code=tree.station_code, role="station_admin")
    other_admin = await officer_token(
        client, app, unit_code=tree.other_station_code, role="station_admin"
    )
    station = gid("OrgUnit", tree.station_id)
    words = {"zh": "湖塘派出所感谢您的线索，已依法处理。", "en": "Hutang thanks you."}

    listed = (await gql(client, TEMPLATES, officer, station=station))["tipFeedbackTemplates"]
    rest = (
        await client.get(
            f"/api/v1/tip-feedback-templates?station_id={tree.station_id}", headers=auth(officer)
        )
    ).json()
    assert [(t["code"], t["outcome"].lower(), t["textZh"]) for t in listed] == [
        (t["code"], t["outcome"], t["text_zh"]) for t in rest
    ]

    refused = await gql(client, SAVE, officer, station=station, code="valid_thanks", **words)
    assert refused["saveTipFeedbackTemplate"]["__typename"] == "NotAllowed"
    for token, unit in (
        (other_admin, station),  # a station outside the admin's reach
        (admin, gid("Tip", tree.station_id)),  # not an org unit id
    ):
        miss = await gql(client, SAVE, token, station=unit, code="valid_thanks", **words)
        result = miss["saveTipFeedbackTemplate"]
        assert (result["__typename"], result["code"]) == ("NotFound", "org_unit.not_found")
    bad = await gql(client, SAVE, admin, station=station, code="Bad Code", **words)
    assert bad["saveTipFeedbackTemplate"]["code"] == "tip.template_code_invalid"
    assert bad["saveTipFeedbackTemplate"]["fields"] == [
        {"field": "code", "code": "template_code_invalid"}
    ]

    saved = await gql(client, SAVE, admin, station=station, code="valid_thanks", **words)
    assert saved["saveTipFeedbackTemplate"]["template"] == {
        "code": "valid_thanks",
        "outcome": "VALID",
        "textZh": words["zh"],
        "textEn": words["en"],
    }
    after = (await gql(client, TEMPLATES, officer, station=station))["tipFeedbackTemplates"]
    assert {
        "code": "valid_thanks",
        "outcome": "VALID",
        "textZh": words["zh"],
        "textEn": words["en"],
    } in after
    assert len(after) == len(listed) + 1

    # The other station's officers neither see nor read this station's catalogue.
    body = await post(client, TEMPLATES, other_admin, station=station)
    assert body["errors"][0]["extensions"]["code"] == "org_unit.not_found"
    other_list = await gql(
        client, TEMPLATES, other_admin, station=gid("OrgUnit", tree.other_station_id)
    )
    assert "valid_thanks" not in {t["code"] for t in other_list["tipFeedbackTemplates"]}
