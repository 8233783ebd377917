"""Dev channels (log + JSONL, once per key) and how settings pick the channels."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.bootstrap.channels import channels
from app.bootstrap.platform import build_platform
from app.domain.notifications.model import Kind, Notification, link_to
from app.infra.push.dev import DevChannel
from app.infra.push.jpush import JPushChannel
from app.infra.wechat.subscribe import WeChatSubscribeChannel
from app.settings import Settings


def notification() -> Notification:
    return Notification(
        uuid.uuid4(),
        uuid.uuid4(),
        Kind.TIP_UPDATE,
        link_to("tips", uuid.uuid4()),
        datetime.now(UTC),
    )


async def test_dev_channel_writes_generic_text_once_per_key(tmp_path: Path) -> None:
    outbox = tmp_path / "channels.jsonl"
    channel = DevChannel("push", outbox)
    n = notification()

    first = await channel.send(n, "key-1")
    again = await channel.send(n, "key-1")

    assert (first.sent, again.sent, again.detail) == (True, False, "already handled")
    (line,) = outbox.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["channel"] == "push"
    assert record["title"] == "您的举报有新进展"
    assert record["link"] == n.link
    assert record["key"] == "key-1"


async def test_dev_channel_without_outbox_only_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    result = await DevChannel("wechat").send(notification(), "key-2")

    assert result.sent is True
    assert any("dev wechat notification" in r.getMessage() for r in caplog.records)
    assert list(tmp_path.iterdir()) == []


async def test_settings_choose_the_channels() -> None:

    dev = build_platform(Settings(_env_file=None))  # type: ignore[call-arg]
    real = build_platform(
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            wechat_subscribe_adapter="wechat",
            wechat_appid="wx123",
            wechat_secret="s",
            push_adapter="jpush",
            jpush_app_key="k",
            jpush_master_secret="m",
        )
    )
    try:
        assert [type(c) for c in channels(dev)] == [DevChannel, DevChannel]
        assert [c.name for c in channels(dev)] == ["wechat", "push"]
        assert [type(c) for c in channels(real)] == [WeChatSubscribeChannel, JPushChannel]
    finally:
        await dev.aclose()
        await real.aclose()
