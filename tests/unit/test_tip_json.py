"""The plain-dict tip responses (hot pages) read exactly as the TipOut model writes them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from asyncpg.pgproto import pgproto

from app.api.pagination import after_id
from app.api.rest.common import PlainJSONResponse, page_json
from app.api.rest.tips_schemas import TipOut, tip_json
from app.domain.media.model import MediaKind, MediaObject, MediaStatus
from app.domain.media.services import MediaView
from app.domain.shared.geo import Crs, GeoPoint
from app.domain.tips.model import (
    Category,
    EventKind,
    Outcome,
    Routing,
    Tip,
    TipEvent,
    TipStatus,
    Urgency,
)
from app.domain.tips.services import TipView

NOW = datetime(2026, 11, 22, 10, 30, 15, 123456, tzinfo=UTC)


def _tip(**overrides: object) -> Tip:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "category": Category.SUSPICIOUS_PERSON,
        "description": "花园新村东门有可疑人员反复查看电动车，穿深色外套。",
        "location": GeoPoint(119.8412345, 31.7254321),
        "urgency": Urgency.HIGH,
        "anonymous": False,
        "routing": Routing(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), None),
        "submitted_at": NOW - timedelta(hours=3),
        "status": TipStatus.VALID,
        "assignee_id": uuid.uuid4(),
        "due_at": NOW + timedelta(days=1),
        "outcome": Outcome.VALID,
        "disputes": 1,
        "version": 4,
        "updated_at": NOW,
    }
    values.update(overrides)
    return Tip(**values)  # type: ignore[arg-type]


def _events(tip: Tip) -> list[TipEvent]:
    return [
        TipEvent(uuid.uuid4(), tip.id, EventKind.SUBMITTED, NOW - timedelta(hours=3), None,
                 TipStatus.SUBMITTED, None),
        TipEvent(uuid.uuid4(), tip.id, EventKind.ASSIGNED, NOW - timedelta(hours=2),
                 TipStatus.SUBMITTED, TipStatus.TRIAGED, uuid.uuid4(),
                 {"due_at": "2026-11-23T10:00:00+00:00", "备注": "请尽快核实"}),
        TipEvent(uuid.uuid4(), tip.id, EventKind.OUTCOME, NOW, TipStatus.VERIFYING,
                 TipStatus.VALID, uuid.uuid4(), {}, "valid_thanks",
                 "感谢您的举报，线索已核实。", "Thank you: your tip was confirmed."),
    ]  # fmt: skip


def _media(tip: Tip) -> MediaView:
    obj = MediaObject(
        id=uuid.uuid4(),
        owner_account_id=uuid.uuid4(),
        kind=MediaKind.PHOTO,
        content_type="image/jpeg",
        size=1234,
        storage_key="k",
        status=MediaStatus.READY,
        created_at=NOW,
    )
    return MediaView(obj, "https://x.example/m?sig=1", None)


def _views() -> list[TipView]:
    tip = _tip()
    anonymous = _tip(anonymous=True, status=TipStatus.SUBMITTED, outcome=None, due_at=None)
    # asyncpg hands back its own UUID subclass for uuid columns
    from_db = _tip(id=pgproto.UUID(str(uuid.uuid4())), duplicate_of=None)
    return [
        TipView(tip, True, _events(tip), True, media=(_media(tip),), now=NOW),
        TipView(tip, False, [e for e in _events(tip) if e.feedback], False),
        TipView(tip, True, _events(tip), False, coarse=True, now=NOW),
        TipView(anonymous, True, [], False),
        TipView(from_db, True, [], False),
    ]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("crs", [Crs.WGS84, Crs.GCJ02])
@pytest.mark.parametrize("with_history", [True, False])
def test_plain_tip_reads_as_the_model_writes(lang: str, crs: Crs, with_history: bool) -> None:
    for view in _views():
        plain = tip_json(view, lang, crs, with_history=with_history)
        rendered = PlainJSONResponse(plain).body
        model = TipOut.model_validate(plain)  # the dict is a valid TipOut ...
        assert json.loads(bytes(rendered)) == json.loads(model.model_dump_json())  # ... alike
        assert rendered == model.model_dump_json().encode()  # byte for byte, in fact


def test_page_of_plain_tips_carries_the_cursor_of_its_last_item() -> None:
    views = _views()
    items = [tip_json(v, "zh-CN") for v in views]
    page = orjson.loads(PlainJSONResponse(page_json(items, more=True)).body)
    assert [i["id"] for i in page["items"]] == [str(v.tip.id) for v in views]
    assert after_id(page["next_cursor"]) == views[-1].tip.id
    assert orjson.loads(PlainJSONResponse(page_json(items, more=False)).body)["next_cursor"] is None


def test_plain_json_refuses_what_it_cannot_write() -> None:
    with pytest.raises(TypeError):
        PlainJSONResponse({"x": object()})
