"""Examples and properties of the identifier parsers (DOMAIN.md §2)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soskdt.core.identifiers import (
    CARD_GROUP_CODES,
    IdentifierError,
    parse_card_code,
    parse_card_or_number,
    parse_facility_code,
    parse_personal_id,
    parse_social_insurance_number,
)

DIGITS = "0123456789"
personal_ids = st.text(alphabet=DIGITS, min_size=12, max_size=12)
card_codes = st.builds(
    lambda group, level, province, number: f"{group}{level}{province}{number}",
    st.sampled_from(sorted(CARD_GROUP_CODES)),
    st.integers(1, 5),
    st.text(alphabet=DIGITS, min_size=2, max_size=2),
    st.text(alphabet=DIGITS, min_size=10, max_size=10),
)
# Mostly near-misses: digits and letters of about the right length, with stray spaces and symbols.
identifier_like = st.one_of(st.text(), st.text(alphabet=DIGITS + "ABCDGHKNSTXZabc -./\n\t٣", max_size=18))


def test_a_personal_id_is_split_into_province_sex_and_birth_year():
    person = parse_personal_id(" 079190001234 ")

    assert (person.value, person.province_code, person.sex, person.birth_year) == (
        "079190001234",
        "079",
        "F",
        1990,
    )
    assert parse_personal_id("001205000001").birth_year == 2005


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "PERSONAL_ID_MISSING"),
        ("1090001234", "PERSONAL_ID_INVALID"),
        ("07919000123A", "PERSONAL_ID_INVALID"),
        ("０７９１９０００１２３４", "PERSONAL_ID_INVALID"),
    ],
)
def test_a_malformed_personal_id_raises_its_code(raw, code):
    with pytest.raises(IdentifierError) as raised:
        parse_personal_id(raw)

    assert raised.value.code == code


@given(personal_ids)
def test_every_12_digit_personal_id_round_trips(value):
    person = parse_personal_id(f" {value}\n")

    assert person.value == value == str(person)
    assert person.sex in ("M", "F")
    assert 1900 <= person.birth_year <= 2399


@given(st.integers(1900, 2199), st.sampled_from(["M", "F"]), personal_ids)
def test_an_id_built_from_sex_and_birth_year_agrees_with_them(year, sex, base):
    digit = (year - 1900) // 100 * 2 + (sex == "F")
    person = parse_personal_id(f"{base[:3]}{digit}{year % 100:02d}{base[6:]}")

    assert person.consistency_warnings(birth_year=year, sex=sex) == []
    assert person.consistency_warnings(birth_year=year + 1, sex=sex) == ["PERSONAL_ID_BIRTH_YEAR_MISMATCH"]


@given(identifier_like)
def test_any_string_is_a_valid_personal_id_or_an_identifier_error(raw):
    try:
        person = parse_personal_id(raw)
    except IdentifierError as exc:
        assert exc.code in ("PERSONAL_ID_MISSING", "PERSONAL_ID_INVALID")
    else:
        assert len(person.value) == 12 and all(c in DIGITS for c in person.value)


def test_a_card_code_is_split_into_group_level_province_and_number():
    card = parse_card_code("gd4797912345678")

    assert (card.value, card.group, card.benefit_level, card.province_code, card.social_insurance_number) == (
        "GD4797912345678", "GD", 4, "79", "7912345678",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "CARD_CODE_MISSING"),
        ("GD47979123456", "CARD_CODE_INVALID"),
        ("ZZ4797912345678", "CARD_GROUP_UNKNOWN"),
        ("GD6797912345678", "CARD_LEVEL_INVALID"),
        ("GD0797912345678", "CARD_LEVEL_INVALID"),
    ],
)
def test_a_malformed_card_code_raises_its_code(raw, code):
    with pytest.raises(IdentifierError) as raised:
        parse_card_code(raw)

    assert raised.value.code == code


@given(card_codes)
def test_every_well_formed_card_code_round_trips_in_any_case(value):
    card = parse_card_code(value.lower())

    assert card.value == value
    assert card.group in CARD_GROUP_CODES and 1 <= card.benefit_level <= 5
    assert parse_card_or_number(value) == (card, value[5:])
    assert parse_card_or_number(value[5:]) == (None, value[5:])


@given(identifier_like)
def test_any_string_is_a_valid_card_code_or_an_identifier_error(raw):
    try:
        card = parse_card_code(raw)
    except IdentifierError as exc:
        assert exc.code in (
            "CARD_CODE_MISSING",
            "CARD_CODE_INVALID",
            "CARD_GROUP_UNKNOWN",
            "CARD_LEVEL_INVALID",
        )
    else:
        assert len(card.value) == 15 and card.group in CARD_GROUP_CODES and 1 <= card.benefit_level <= 5
        assert all(c in DIGITS for c in card.value[3:])


@given(identifier_like)
def test_any_string_is_a_social_insurance_number_facility_code_or_an_identifier_error(raw):
    for parse in (parse_social_insurance_number, parse_facility_code, parse_card_or_number):
        with contextlib.suppress(IdentifierError):
            parse(raw)


def test_facility_codes_are_five_digits():
    assert parse_facility_code(" 79048 ") == "79048"
    with pytest.raises(IdentifierError):
        parse_facility_code("7904")
