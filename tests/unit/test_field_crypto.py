from __future__ import annotations

import base64
import dataclasses
import os

import pytest

from app.domain.shared.protection import (
    BlindIndexer,
    FieldCipher,
    Sealed,
    SealedDataUnreadable,
)
from app.infra.crypto.fields import (
    AesGcmFieldCipher,
    HmacBlindIndexer,
    generate_key,
    parse_key_ring,
)

K1 = bytes(range(32))
K2 = bytes(range(32, 64))
CONTEXT = "volunteer.resident_id"
SECRET = "320412198001011234 张三 江苏省常州市武进区"


@pytest.fixture
def cipher() -> AesGcmFieldCipher:
    return AesGcmFieldCipher({"k1": K1}, active_key_id="k1")


def test_adapters_satisfy_ports(cipher: AesGcmFieldCipher) -> None:
    as_port: FieldCipher = cipher
    indexer: BlindIndexer = HmacBlindIndexer(K1)
    assert as_port.open(as_port.seal("x", context=CONTEXT), context=CONTEXT) == "x"
    assert len(indexer.index("x", purpose="phone")) == 32


# -- cipher ------------------------------------------------------------------------------


def test_round_trip_chinese(cipher: AesGcmFieldCipher) -> None:
    sealed = cipher.seal(SECRET, context=CONTEXT)
    assert sealed.key_id == "k1"
    assert SECRET.encode() not in sealed.ciphertext
    # nonce (12) + ciphertext (same length as the plaintext) + tag (16)
    assert len(sealed.ciphertext) == 12 + len(SECRET.encode()) + 16
    assert cipher.open(sealed, context=CONTEXT) == SECRET


def test_round_trip_empty_string(cipher: AesGcmFieldCipher) -> None:
    assert cipher.open(cipher.seal("", context=CONTEXT), context=CONTEXT) == ""


def test_ciphertexts_differ_each_time(cipher: AesGcmFieldCipher) -> None:
    sealed = {cipher.seal(SECRET, context=CONTEXT).ciphertext for _ in range(20)}
    assert len(sealed) == 20
    assert len({c[:12] for c in sealed}) == 20


def test_wrong_context_fails(cipher: AesGcmFieldCipher) -> None:
    sealed = cipher.seal("13800138000", context="volunteer.phone")
    with pytest.raises(SealedDataUnreadable) as info:
        cipher.open(sealed, context="informant.phone")
    assert info.value.code == "crypto.unreadable"


@pytest.mark.parametrize("position", [0, 11, 12, -17, -1])
def test_tampered_byte_fails(cipher: AesGcmFieldCipher, position: int) -> None:
    sealed = cipher.seal(SECRET, context=CONTEXT)
    data = bytearray(sealed.ciphertext)
    data[position] ^= 0x01
    with pytest.raises(SealedDataUnreadable):
        cipher.open(Sealed(key_id="k1", ciphertext=bytes(data)), context=CONTEXT)


@pytest.mark.parametrize("data", [b"", b"\x00" * 12, b"\x00" * 27])
def test_truncated_ciphertext_fails(cipher: AesGcmFieldCipher, data: bytes) -> None:
    with pytest.raises(SealedDataUnreadable):
        cipher.open(Sealed(key_id="k1", ciphertext=data), context=CONTEXT)


def test_key_rotation_keeps_old_values_readable() -> None:
    old = AesGcmFieldCipher({"k1": K1}, active_key_id="k1")
    sealed_old = old.seal(SECRET, context=CONTEXT)

    rotated = AesGcmFieldCipher({"k2": K2, "k1": K1}, active_key_id="k2")
    assert rotated.open(sealed_old, context=CONTEXT) == SECRET
    sealed_new = rotated.seal(SECRET, context=CONTEXT)
    assert sealed_new.key_id == "k2"
    assert rotated.open(sealed_new, context=CONTEXT) == SECRET
    with pytest.raises(SealedDataUnreadable):
        old.open(sealed_new, context=CONTEXT)


def test_unknown_key_id_fails(cipher: AesGcmFieldCipher) -> None:
    sealed = cipher.seal(SECRET, context=CONTEXT)
    with pytest.raises(SealedDataUnreadable):
        cipher.open(dataclasses.replace(sealed, key_id="k9"), context=CONTEXT)


def test_key_id_swap_with_other_key_fails() -> None:
    ring = AesGcmFieldCipher({"k2": K2, "k1": K1}, active_key_id="k2")
    sealed = ring.seal(SECRET, context=CONTEXT)
    with pytest.raises(SealedDataUnreadable):
        ring.open(dataclasses.replace(sealed, key_id="k1"), context=CONTEXT)


@pytest.mark.parametrize(
    ("keys", "active", "message"),
    [
        ({}, "k1", "at least one key"),
        ({"k1": K1}, "k2", "not in the key ring"),
        ({"k1": K1[:16]}, "k1", "32 bytes"),
        ({"k1": K1 + b"\x00"}, "k1", "32 bytes"),
        ({"bad id": K1}, "bad id", "invalid key id"),
    ],
)
def test_cipher_construction_is_validated(
    keys: dict[str, bytes], active: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        AesGcmFieldCipher(keys, active_key_id=active)


def test_cipher_repr_has_no_key_material(cipher: AesGcmFieldCipher) -> None:
    text = repr(cipher)
    assert "k1" in text
    assert K1.hex() not in text
    assert repr(K1) not in text


# -- blind index -------------------------------------------------------------------------


def test_blind_index_is_deterministic() -> None:
    indexer = HmacBlindIndexer(K1)
    first = indexer.index("13800138000", purpose="phone")
    assert first == HmacBlindIndexer(K1).index("13800138000", purpose="phone")
    assert len(first) == 32
    assert first != indexer.index("13800138001", purpose="phone")


def test_blind_index_purposes_do_not_correlate() -> None:
    indexer = HmacBlindIndexer(K1)
    assert indexer.index("13800138000", purpose="phone") != indexer.index(
        "13800138000", purpose="resident_id"
    )


def test_blind_index_separator_prevents_shifting_collisions() -> None:
    indexer = HmacBlindIndexer(K1)
    assert indexer.index("bc", purpose="a") != indexer.index("c", purpose="ab")


def test_blind_index_keys_differ() -> None:
    assert HmacBlindIndexer(K1).index("x", purpose="phone") != HmacBlindIndexer(K2).index(
        "x", purpose="phone"
    )


def test_blind_index_accepts_longer_keys_and_rejects_short_ones() -> None:
    HmacBlindIndexer(os.urandom(64))
    with pytest.raises(ValueError, match="at least 32 bytes"):
        HmacBlindIndexer(os.urandom(31))


@pytest.mark.parametrize("purpose", ["", "pho\x00ne"])
def test_blind_index_rejects_bad_purpose(purpose: str) -> None:
    with pytest.raises(ValueError, match="purpose"):
        HmacBlindIndexer(K1).index("x", purpose=purpose)


# -- key ring ----------------------------------------------------------------------------


def test_parse_key_ring_first_entry_is_active() -> None:
    spec = f"k2:{base64.urlsafe_b64encode(K2).decode()}, k1:{base64.b64encode(K1).decode()}"
    keys, active = parse_key_ring(spec)
    assert active == "k2"
    assert keys == {"k2": K2, "k1": K1}
    assert list(keys) == ["k2", "k1"]


def test_parse_key_ring_accepts_both_alphabets_and_missing_padding() -> None:
    key = b"\xfb\xff" * 16  # encodes with '+'/'/' or '-'/'_'
    standard = base64.b64encode(key).decode()
    urlsafe = base64.urlsafe_b64encode(key).decode().rstrip("=")
    assert "+" in standard or "/" in standard
    assert parse_key_ring(f"a:{standard}")[0]["a"] == key
    assert parse_key_ring(f"a:{urlsafe}")[0]["a"] == key


def test_generate_key_round_trips_through_the_ring() -> None:
    generated = generate_key()
    assert generated != generate_key()
    keys, active = parse_key_ring(f"k1:{generated}")
    assert active == "k1"
    assert keys["k1"] == base64.urlsafe_b64decode(generated)
    cipher = AesGcmFieldCipher(keys, active)
    assert cipher.open(cipher.seal("ok", context=CONTEXT), context=CONTEXT) == "ok"


_GOOD = base64.b64encode(K1).decode()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "key ring is empty"),
        ("  ", "key ring is empty"),
        (_GOOD, "entry 1 must look like 'key_id:BASE64KEY'"),
        (f"k1:{_GOOD},,k2:{_GOOD}", "entry 2 is empty"),
        (f":{_GOOD}", "invalid key id in key ring entry 1"),
        (f"k 1:{_GOOD}", "invalid key id in key ring entry 1"),
        (f"k1:{_GOOD},k1:{_GOOD}", "appears more than once"),
        ("k1:not*base64", "'k1' is not valid base64"),
        (f"k1:{base64.b64encode(K1[:16]).decode()}", "must decode to 32 bytes, got 16"),
    ],
)
def test_parse_key_ring_errors(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_key_ring(spec)
    assert _GOOD not in str(info.value)
