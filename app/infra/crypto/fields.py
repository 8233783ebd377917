"""Field encryption (AES-256-GCM) and blind indexes (HMAC-SHA256) for personal data.

Adapters for the ports in :mod:`app.domain.shared.protection`. Keys come from settings
as a key ring (``"k2:BASE64,k1:BASE64"``, active key first); every sealed value carries
the id of the key that sealed it, so retired keys stay readable until data is resealed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.domain.shared.protection import Sealed, SealedDataUnreadable

__all__ = ["AesGcmFieldCipher", "HmacBlindIndexer", "generate_key", "parse_key_ring"]

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
MIN_INDEX_KEY_BYTES: Final = 32

# Key ids are stored next to every ciphertext: keep them short and unambiguous.
_KEY_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,32}")


def _check_key_id(key_id: str, where: str) -> None:
    if _KEY_ID.fullmatch(key_id) is None:
        # The bad id is not echoed: a misplaced colon could make it key material.
        raise ValueError(
            f"invalid key id in {where}: use 1-32 characters from A-Z, a-z, 0-9, '.', '_', '-'"
        )


class AesGcmFieldCipher:
    """AES-256-GCM with a random 96-bit nonce; stored bytes are ``nonce || ciphertext || tag``.

    Random nonces are safe for far more values than one key will ever seal here
    (the usual bound is 2**32 messages per key); rotate keys through the key ring.
    """

    __slots__ = ("_active_key_id", "_aeads")

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        if not keys:
            raise ValueError("at least one key is required")
        if active_key_id not in keys:
            raise ValueError(f"active key id {active_key_id!r} is not in the key ring")
        aeads: dict[str, AESGCM] = {}
        for key_id, key in keys.items():
            _check_key_id(key_id, "the key ring")
            if len(key) != KEY_BYTES:
                raise ValueError(
                    f"key {key_id!r} must be {KEY_BYTES} bytes for AES-256, got {len(key)}"
                )
            aeads[key_id] = AESGCM(bytes(key))
        self._aeads = aeads
        self._active_key_id = active_key_id

    @property
    def active_key_id(self) -> str:
        return self._active_key_id

    def seal(self, plaintext: str, *, context: str) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        aead = self._aeads[self._active_key_id]
        body = aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return Sealed(key_id=self._active_key_id, ciphertext=nonce + body)

    def open(self, sealed: Sealed, *, context: str) -> str:
        aead = self._aeads.get(sealed.key_id)
        data = sealed.ciphertext
        if aead is None or len(data) < NONCE_BYTES + TAG_BYTES:
            raise SealedDataUnreadable()
        try:
            plaintext = aead.decrypt(
                data[:NONCE_BYTES], data[NONCE_BYTES:], context.encode("utf-8")
            )
            return plaintext.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise SealedDataUnreadable() from None

    def __repr__(self) -> str:
        return f"AesGcmFieldCipher(active={self._active_key_id!r}, keys={sorted(self._aeads)!r})"


class HmacBlindIndexer:
    """HMAC-SHA256 over ``purpose || 0x00 || value``; the full 32-byte digest is kept.

    Use a key separate from the encryption keys. Changing this key changes every index,
    so it needs a reindex job rather than a key ring.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_INDEX_KEY_BYTES:
            raise ValueError(f"blind index key must be at least {MIN_INDEX_KEY_BYTES} bytes")
        self._key = bytes(key)

    def index(self, value: str, *, purpose: str) -> bytes:
        if not purpose or "\x00" in purpose:
            # The separator must be unambiguous, or two (purpose, value) pairs could collide.
            raise ValueError("purpose must be non-empty and must not contain NUL")
        message = purpose.encode("utf-8") + b"\x00" + value.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "HmacBlindIndexer()"


def _decode_key(key_id: str, encoded: str) -> bytes:
    # Accept both alphabets and missing padding: keys get pasted from many tools.
    text = encoded.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"key {key_id!r} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"key {key_id!r} must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


def parse_key_ring(spec: str) -> tuple[dict[str, bytes], str]:
    """Parse ``"k2:BASE64KEY,k1:BASE64KEY"`` into ``(keys, active_key_id)``.

    The first entry is the active key; the others stay available for reading. Keys are
    base64 (standard or URL-safe, padding optional) of exactly 32 bytes. Error messages
    name key ids, never key material.
    """
    entries = [entry.strip() for entry in spec.split(",")]
    if not any(entries):
        raise ValueError("key ring is empty; expected 'key_id:BASE64KEY[,key_id:BASE64KEY...]'")
    keys: dict[str, bytes] = {}
    active_key_id = ""
    for position, entry in enumerate(entries, start=1):
        if not entry:
            raise ValueError(f"key ring entry {position} is empty")
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep:
            raise ValueError(f"key ring entry {position} must look like 'key_id:BASE64KEY'")
        _check_key_id(key_id, f"key ring entry {position}")
        if key_id in keys:
            raise ValueError(f"key id {key_id!r} appears more than once in the key ring")
        keys[key_id] = _decode_key(key_id, encoded)
        if not active_key_id:
            active_key_id = key_id
    return keys, active_key_id


def generate_key() -> str:
    """A new random 32-byte key, URL-safe base64, for settings (``KEY_ID:<this>``)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
