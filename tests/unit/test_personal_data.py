from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.shared.errors import InvalidInput
from app.domain.shared.personal_data import (
    ResidentId,
    age_on,
    mask_address,
    mask_name,
    mask_phone,
    mask_resident_id,
    parse_cn_mobile,
    parse_resident_id,
    resident_id_check_char,
)

TODAY = date(2025, 6, 1)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_char(body: str) -> str:
    """Independent GB 11643-1999 check character, so the tests do not trust the code under test."""
    total = sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def make_id(body: str) -> str:
    return body + check_char(body)


def field_code(exc: InvalidInput) -> str:
    assert len(exc.fields) == 1
    return exc.fields[0].code


# -- resident id: valid ------------------------------------------------------------------


def test_valid_id_wujin_male() -> None:
    raw = make_id("32041219800101001")  # 320412 Wujin, Changzhou; 1980-01-01; seq 001 (odd)
    rid = parse_resident_id(raw, today=TODAY)
    assert rid == ResidentId(
        value=raw, birth_date=date(1980, 1, 1), gender="male", region_code="320412"
    )


def test_valid_id_with_x_check_char_is_female() -> None:
    body = "32041219800101004"
    assert check_char(body) == "X"
    rid = parse_resident_id(body + "X", today=TODAY)
    assert rid.value == body + "X"
    assert rid.gender == "female"
    assert rid.birth_date == date(1980, 1, 1)


def test_lowercase_x_and_spaces_are_normalised() -> None:
    rid = parse_resident_id(" 320412 19800101 004x ", today=TODAY)
    assert rid.value == "32041219800101004X"


@pytest.mark.parametrize(
    ("body", "birth", "gender"),
    [
        ("11010519491001002", date(1949, 10, 1), "female"),
        ("44030420000229003", date(2000, 2, 29), "male"),
        ("65010219000101009", date(1900, 1, 1), "male"),
    ],
)
def test_other_valid_ids(body: str, birth: date, gender: str) -> None:
    rid = parse_resident_id(make_id(body), today=TODAY)
    assert rid.birth_date == birth
    assert rid.gender == gender
    assert rid.region_code == body[:6]


def test_birth_today_is_allowed() -> None:
    rid = parse_resident_id(make_id("32041220250601001"), today=TODAY)
    assert rid.birth_date == TODAY


def test_check_char_helper_matches_reference() -> None:
    assert resident_id_check_char("32041219800101004") == "X"
    assert resident_id_check_char("32041219800101001") == check_char("32041219800101001")
    with pytest.raises(ValueError):
        resident_id_check_char("1234")


def test_repr_does_not_leak_the_number() -> None:
    raw = make_id("32041219800101001")
    text = repr(parse_resident_id(raw, today=TODAY))
    assert raw not in text
    assert "320***********" in text


# -- resident id: invalid ----------------------------------------------------------------


def _id_error(raw: str, today: date = TODAY) -> str:
    with pytest.raises(InvalidInput) as info:
        parse_resident_id(raw, today=today)
    exc = info.value
    assert exc.code == "person.invalid_resident_id"
    assert exc.fields[0].field == "resident_id"
    assert exc.message_en
    assert exc.message_zh
    assert exc.message_en != exc.message_zh
    return field_code(exc)


def test_bad_checksum() -> None:
    good = make_id("32041219800101001")
    wrong = "0" if good[-1] != "0" else "1"
    assert _id_error(good[:-1] + wrong) == "checksum"


def test_impossible_date() -> None:
    assert _id_error(make_id("32041219990231001")) == "birth_date"


def test_month_thirteen() -> None:
    assert _id_error(make_id("32041219991301001")) == "birth_date"


def test_future_birth_date() -> None:
    tomorrow = TODAY + timedelta(days=1)
    assert _id_error(make_id(f"320412{tomorrow:%Y%m%d}001")) == "birth_date"


def test_before_1900() -> None:
    assert _id_error(make_id("32041218991231001")) == "birth_date"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "32041219800101001",  # 17 characters
        make_id("32041219800101001") + "1",  # 19 characters
        "320412800101001",  # old 15-digit format
        "3204121980010100X1",  # X not last
        "32041219800101A015",
        "３２０４１２１９８００１０１００１５",  # full-width digits
    ],
)
def test_wrong_format(raw: str) -> None:
    assert _id_error(raw) == "format"


@pytest.mark.parametrize("first", ["0", "9"])
def test_bad_region_first_digit(first: str) -> None:
    assert _id_error(make_id(first + "2041219800101001")) == "format"


# -- age ---------------------------------------------------------------------------------


def test_age_on() -> None:
    rid = parse_resident_id(make_id("32041219800101001"), today=TODAY)
    assert age_on(rid, date(1980, 1, 1)) == 0
    assert age_on(rid, date(2017, 12, 31)) == 37
    assert age_on(rid, date(2018, 1, 1)) == 38
    with pytest.raises(ValueError):
        age_on(rid, date(1979, 12, 31))


def test_age_on_leap_day_birthday() -> None:
    rid = parse_resident_id(make_id("44030420000229003"), today=TODAY)
    assert age_on(rid, date(2018, 2, 28)) == 17
    assert age_on(rid, date(2018, 3, 1)) == 18
    assert age_on(rid, date(2020, 2, 29)) == 20


# -- property ----------------------------------------------------------------------------


@st.composite
def valid_bodies(draw: st.DrawFn) -> str:
    region = draw(st.integers(min_value=100000, max_value=899999))
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.integers(min_value=0, max_value=999))
    return f"{region:06d}{birth:%Y%m%d}{sequence:03d}"


@given(
    body=valid_bodies(), position=st.integers(min_value=0, max_value=17), delta=st.integers(1, 9)
)
def test_property_valid_ids_parse_and_single_digit_changes_fail(
    body: str, position: int, delta: int
) -> None:
    raw = make_id(body)
    rid = parse_resident_id(raw, today=TODAY)
    assert rid.value == raw
    assert rid.gender == ("male" if int(body[16]) % 2 else "female")

    if position == 17 and raw[17] == "X":
        flipped = raw[:17] + str(delta)  # any digit replacing X
    elif position == 17:
        flipped = raw[:17] + ("X" if delta == 9 else str((int(raw[17]) + delta) % 10))
    else:
        digit = str((int(raw[position]) + delta) % 10)
        flipped = raw[:position] + digit + raw[position + 1 :]
    assert flipped != raw
    assert _id_error(flipped) == "checksum"


# -- mobile ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+8613800138000",
        "+86 138 0013 8000",
        "0086-138-0013-8000",
        "8613800138000",
        "86 13800138000",
        "138-0013-8000",
        " 138 0013 8000 ",
    ],
)
def test_valid_mobiles(raw: str) -> None:
    assert parse_cn_mobile(raw) == "13800138000"


def test_other_mobile_prefixes() -> None:
    assert parse_cn_mobile("19912345678") == "19912345678"
    assert parse_cn_mobile("+86-166-1234-5678") == "16612345678"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "138001380001",  # 12 digits
        "1380013800",  # 10 digits
        "12800138000",  # starts with 12
        "10800138000",
        "23800138000",
        "+8513800138000",
        "+86+8613800138000",
        "1380013800a",
        "１３８００１３８０００",  # full-width digits
        "(138)00138000",
    ],
)
def test_invalid_mobiles(raw: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_cn_mobile(raw)
    exc = info.value
    assert exc.code == "person.invalid_phone"
    assert exc.fields[0].field == "phone"
    assert exc.message_en
    assert exc.message_zh


# -- masking -----------------------------------------------------------------------------


def test_mask_phone() -> None:
    assert mask_phone("13800138000") == "138****8000"


def test_mask_resident_id() -> None:
    assert mask_resident_id("320412198001011234") == "320***********1234"
    assert mask_resident_id("32041219800101004X") == "320***********004X"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("李", "*"),
        ("Alice", "A****"),
        ("  王五  ", "王*"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_mask_address() -> None:
    assert mask_address("江苏省常州市武进区湖塘镇人民路1号") == "江苏省常州市****"
    assert mask_address("江苏省常州市") == "****"
    assert mask_address("湖塘镇") == "****"
    assert mask_address("") == ""


def test_short_values_are_fully_masked() -> None:
    assert mask_phone("12345") == "*****"
    assert mask_resident_id("1234567") == "*******"
