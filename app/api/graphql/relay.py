"""Relay helpers: keyset pages as connections, and scope-honouring node lookups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from strawberry import relay

N = TypeVar("N", bound=relay.Node)


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
