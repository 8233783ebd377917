"""Free text the database can store.

PostgreSQL ``text`` cannot hold U+0000, and a lone surrogate (possible in JSON ``\\ud800``
escapes and in Python strings) cannot be encoded as UTF-8 at all. Requests are screened
at the door; operator imports and commands reach the use cases directly, so the text
rules of the domain check this too and reject such values as invalid input, per field.
"""

from __future__ import annotations


def storable(text: str) -> bool:
    """``False`` for text containing NUL or a lone surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
