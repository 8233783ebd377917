"""Relay helpers: keyset pages as connections, global ids, and scope-honouring node
lookups."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar
from uuid import UUID

from strawberry import relay
from strawberry.dataloader import DataLoader

from app.api.pagination import MAX_PAGE, Identified, cursor_of
from app.domain.shared.ids import parse_id

N = TypeVar("N", bound=relay.Node)
R = TypeVar("R")
ItemT = TypeVar("ItemT", bound=Identified)


def first_of(first: int) -> int:
    """``first`` clamped to a page size the services accept."""
    return max(1, min(first, MAX_PAGE))


def connection_from_page(
    nodes: Sequence[N], cursors: Sequence[str], next_cursor: str | None
) -> relay.Connection[N]:
    """Build a forward-only connection from one keyset page. ``cursors[i]`` resumes after
    ``nodes[i]``; ``next_cursor`` is the cursor after the last node when there are more."""
    edges = [relay.Edge(node=n, cursor=c) for n, c in zip(nodes, cursors, strict=True)]
    return relay.Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=next_cursor is not None,
            has_previous_page=False,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
    )


def keyset_connection(
    items: Sequence[ItemT],
    node: Callable[[ItemT], N],
    *,
    more: bool,
    cursor: Callable[[ItemT], str] = cursor_of,
) -> relay.Connection[N]:
    """A connection of ``items`` (one keyset page, ``more`` when items follow); each edge's
    cursor names its item's ``id`` unless ``cursor`` says otherwise."""
    cursors = [cursor(item) for item in items]
    next_cursor = cursors[-1] if more and cursors else None
    return connection_from_page([node(item) for item in items], cursors, next_cursor)


def node_uuid(gid: relay.GlobalID, type_name: str, not_found: Callable[[], Exception]) -> UUID:
    """The UUID behind a global id of ``type_name``; anything else raises ``not_found()``."""
    parsed = parse_id(gid.node_id) if gid.type_name == type_name else None
    if parsed is None:
        raise not_found()
    return parsed


def optional_node_uuid(
    gid: relay.GlobalID | None, type_name: str, not_found: Callable[[], Exception]
) -> UUID | None:
    return None if gid is None else node_uuid(gid, type_name, not_found)


async def resolve_scoped(
    node_ids: Iterable[str],
    loader: DataLoader[UUID, R | None],
    make: Callable[[R], N],
    not_found: Callable[[], Exception],
    required: bool,
) -> list[N | None]:
    """``resolve_nodes`` through a per-request DataLoader that loads only within the
    caller's scope: foreign or malformed ids give None (or ``not_found()`` if required)."""
    out: list[N | None] = []
    for raw in node_ids:
        parsed = parse_id(raw)
        found = await loader.load(parsed) if parsed else None
        if found is None and required:
            raise not_found()
        out.append(make(found) if found else None)
    return out
