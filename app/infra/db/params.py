"""Statements written in variants, one text per shape of the call, with named parameters.

PostgreSQL plans a prepared statement for its parameters' values five times, then keeps a
generic plan only if it costs no more than those did. A condition such as ``$n IS NULL OR
…`` or ``id = ANY($array)`` makes the generic plan look dearer than any custom one (both
branches kept; ten array elements assumed), so such a statement is planned anew on every
execution. Writing one text per shape (a part present or left out, the array's length
spelled out) leaves nothing to fold, and the statement settles on its generic plan. The
parameters of each text are numbered in the order the text first uses them; the values
are bound by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class Params:
    """Numbers a statement's parameters in order of first use."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}

    def __call__(self, name: str, cast: str = "") -> str:
        """The placeholder of ``name`` (``$n`` or ``$n::cast``)."""
        n = self._numbers.setdefault(name, len(self._numbers) + 1)
        return f"${n}::{cast}" if cast else f"${n}"

    def block(self, name: str, size: int) -> int:
        """``size`` consecutive parameters ``name.0``, ``name.1``…, for a helper that numbers
        its own from a first one: the number of the first."""
        first = len(self._numbers) + 1
        for i in range(size):
            key = f"{name}.{i}"
            if key in self._numbers:
                raise ValueError(f"parameter {key} already numbered")
            self(key)
        return first

    def statement(self, text: str) -> Statement:
        return Statement(text, tuple(self._numbers))


@dataclass(frozen=True, slots=True)
class Statement:
    text: str
    names: tuple[str, ...]

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        """The values in placeholder order (a name the text uses but ``values`` lacks is
        a bug: KeyError)."""
        return [values[name] for name in self.names]


def block_values(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """The values of a ``Params.block``."""
    return {f"{name}.{i}": v for i, v in enumerate(values)}
