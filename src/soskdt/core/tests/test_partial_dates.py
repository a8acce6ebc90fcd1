"""Examples and properties of partial birth dates and QĐ 130 times."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soskdt.core.dates import PartialDate, parse_partial_date, parse_qd130_date, parse_qd130_time


@st.composite
def partial_dates(draw: st.DrawFn) -> PartialDate:
    day = draw(st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2200, 12, 31)))
    known = draw(st.sampled_from(["year", "month", "day"]))
    if known == "year":
        return PartialDate(day.year)
    if known == "month":
        return PartialDate(day.year, day.month)
    return PartialDate(day.year, day.month, day.day)


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("1990", PartialDate(1990)),
        ("1990-7", PartialDate(1990, 7)),
        ("1990-07-04", PartialDate(1990, 7, 4)),
        ("4/7/1990", PartialDate(1990, 7, 4)),
        ("07/1990", PartialDate(1990, 7)),
        ("199007", PartialDate(1990, 7)),
        ("19900704", PartialDate(1990, 7, 4)),
    ],
)
def test_every_documented_shape_parses(raw, parsed):
    assert parse_partial_date(raw) == parsed


@pytest.mark.parametrize(
    "raw", ["", "90", "31/02/1990", "1990-13", "1799", "2201", "00/01/1990", "1990/07/04", "04-07-1990"]
)
def test_impossible_or_unknown_shapes_raise_value_error(raw):
    with pytest.raises(ValueError):
        parse_partial_date(raw)


@given(partial_dates())
def test_a_partial_date_round_trips_through_iso_and_vietnamese_display(value):
    assert parse_partial_date(value.isoformat()) == value
    assert parse_partial_date(value.display()) == value
    assert value.matches(value)


@given(st.text(max_size=14))
def test_any_string_is_a_partial_date_or_a_value_error(raw):
    try:
        value = parse_partial_date(raw)
    except ValueError:
        return
    assert 1800 <= value.year <= 2200
    if value.day is not None:
        assert value.as_date() is not None


@given(partial_dates(), st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2300, 1, 1)))
def test_age_is_never_negative_after_the_latest_possible_birthday(value, day):
    if (day.year, day.month, day.day) >= (value.year, value.month or 12, value.day or 28):
        assert value.age_on(day) >= 0


def test_qd130_times_and_dates_parse_and_reject_other_lengths():
    assert parse_qd130_time("202501311405") == dt.datetime(2025, 1, 31, 14, 5)
    assert parse_qd130_date("20250131") == dt.date(2025, 1, 31)
    for bad in ("2025013114", "20250231", "abcdefgh"):
        with pytest.raises(ValueError):
            parse_qd130_date(bad) if len(bad) == 8 else parse_qd130_time(bad)
