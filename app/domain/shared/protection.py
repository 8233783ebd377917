"""Ports for protecting personal data at rest: field encryption and blind indexes.

Resident ID numbers and phone numbers are stored sealed (AES-GCM, key id kept with the
ciphertext) and found again through keyed blind indexes, never through the plaintext.

These ports are synchronous on purpose: sealing or opening a few dozen bytes with
AES-GCM, or computing one HMAC, takes microseconds, far less than handing the work to a
thread pool would cost, so calling them directly on the event loop is fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.domain.shared.errors import DomainError

__all__ = ["BlindIndexer", "FieldCipher", "Sealed", "SealedDataUnreadable"]


@dataclass(frozen=True, slots=True)
class Sealed:
    """What is stored for an encrypted field: the id of the key used and the ciphertext."""

    key_id: str
    ciphertext: bytes


class SealedDataUnreadable(DomainError):
    """A sealed value cannot be opened: unknown key, wrong context or tampered bytes."""

    code = "crypto.unreadable"
    message_en = "Protected data could not be read."
    message_zh = "受保护的数据无法读取。"


class FieldCipher(Protocol):
    """Authenticated encryption of single field values.

    ``context`` names the field (e.g. ``"volunteer.resident_id"``) and is bound to the
    ciphertext as associated data, so a value copied into another column does not open.
    """

    def seal(self, plaintext: str, *, context: str) -> Sealed: ...

    def open(self, sealed: Sealed, *, context: str) -> str:
        """Decrypt ``sealed``; raises :class:`SealedDataUnreadable` on any failure."""
        ...


class BlindIndexer(Protocol):
    """Keyed, deterministic digests for equality lookups of encrypted values.

    ``purpose`` separates domains (``"phone"``, ``"resident_id"``...) so that equal
    values in different columns produce unrelated indexes. Callers index the normalised
    value (e.g. the output of ``parse_cn_mobile``), otherwise lookups miss.
    """

    def index(self, value: str, *, purpose: str) -> bytes: ...
