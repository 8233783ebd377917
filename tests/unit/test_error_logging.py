"""Unexpected errors are logged without the values database drivers quote."""

from __future__ import annotations

from app.api.errors import safe_trace


class DriverError(Exception):
    sqlstate = "22P02"


DriverError.__module__ = "asyncpg.exceptions"


def _raise_chain() -> None:
    try:
        raise DriverError('invalid input syntax for type uuid: "13800138000"')
    except DriverError as exc:
        raise RuntimeError("repository failed") from exc


def test_driver_messages_are_dropped_but_types_sqlstate_and_frames_kept() -> None:
    try:
        _raise_chain()
    except RuntimeError as exc:
        trace = safe_trace(exc)
    text = repr(trace)
    assert "13800138000" not in text
    assert trace["sqlstate"] == "22P02"
    assert trace["error_chain"][0] == "builtins.RuntimeError: repository failed"
    assert trace["error_chain"][1] == "asyncpg.exceptions.DriverError"
    assert any("_raise_chain" in frame for frame in trace["frames"])
