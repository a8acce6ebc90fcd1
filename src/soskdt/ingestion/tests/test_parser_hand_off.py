"""A HOSO handed off to another process (``iter_visits(hand_off=...)`` + ``read_hoso``) reads exactly as in place."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from soskdt.ingestion.parser import ParserLimits, RawHoso, iter_visits, read_hoso
from soskdt.ingestion.records import ParsedVisit
from soskdt.ingestion.tests.test_parser_error_codes import RECORD_CASES, VISIT_CASES, _good
from soskdt.ingestion.tests.test_parser_variants import VARIANTS


def _plain(item: Any) -> Any:
    if isinstance(item, ParsedVisit):
        return (
            "visit",
            item.file,
            item.index,
            item.facility_code,
            item.ma_lk,
            item.tables,
            item.raw_documents,
            [p.as_dict() for p in item.problems],
        )
    return ("problem", type(item).__name__, item.as_dict())


def _in_place(data: bytes, limits: ParserLimits | None) -> list[Any]:
    return [_plain(item) for item in iter_visits(data, file_name="t.xml", limits=limits)]


def _handed_off(data: bytes, limits: ParserLimits | None, mine: int) -> tuple[list[Any], int]:
    """Read every ``mine``-th HOSO here and hand the others off; finish those as another process would."""
    handed: list[RawHoso] = []
    here = list(
        iter_visits(
            data, file_name="t.xml", limits=limits, only=lambda i: i % mine == 0, hand_off=handed.append
        )
    )
    finished = [
        item
        for raw in handed
        for item in read_hoso(pickle.loads(pickle.dumps(raw)), file_name="t.xml", limits=limits)
    ]
    order = {id(item): n for n, item in enumerate(here)}

    def key(item: Any) -> tuple[int, int]:
        index = item.index if isinstance(item, ParsedVisit) else int(item.extra.get("index", 0) or 0)
        # Items read here keep their place (file problems included); finished ones go where their HOSO was.
        return (index, order.get(id(item), -1))

    merged = sorted([*here, *finished], key=key)
    # File problems that came after the last HOSO stay at the end.
    return [_plain(item) for item in merged], len(handed)


CASES: dict[str, tuple[bytes, ParserLimits | None]] = {
    **{f"variant {name}": (_good(5, **options), None) for name, options in VARIANTS.items()},  # type: ignore[arg-type]
    **{f"refused {code}": (make(), limits) for code, (make, limits) in VISIT_CASES.items()},
    **{f"noticed {code}": (make(), None) for code, make in RECORD_CASES.items()},
}


@pytest.mark.parametrize("case", CASES, ids=CASES.keys())
def test_a_handed_off_hoso_reads_as_it_would_in_place(case: str) -> None:
    data, limits = CASES[case]
    expected = _in_place(data, limits)
    assert any(item[0] == "visit" for item in expected) or "refused" in case
    for mine in (2, 3):
        got, handed = _handed_off(data, limits, mine)
        assert sorted(got, key=repr) == sorted(expected, key=repr)
        assert [g for g in got if g[0] == "visit"] == [e for e in expected if e[0] == "visit"]


def test_embedded_xml_and_visits_before_the_facility_code_are_read_in_place() -> None:
    embedded = _good(4, encoding="embedded")
    handed: list[RawHoso] = []
    items = list(iter_visits(embedded, file_name="t.xml", only=lambda i: False, hand_off=handed.append))
    assert not handed and [i.index for i in items if isinstance(i, ParsedVisit)] == [1, 2, 3, 4]

    data = _good(3)
    facility = data[
        data.index(b"<THONGTINDONVI>") : data.index(b"</THONGTINDONVI>") + len(b"</THONGTINDONVI>")
    ]
    late = data.replace(facility, b"").replace(b"</THONGTINHOSO>", b"</THONGTINHOSO>" + facility)
    items = list(iter_visits(late, file_name="t.xml", only=lambda i: False, hand_off=handed.append))
    assert not handed
    assert [(i.index, i.facility_code) for i in items if isinstance(i, ParsedVisit)] == [
        (1, "79048"),
        (2, "79048"),
        (3, "79048"),
    ]
    assert _plain_all(items) == _in_place(late, None)


def _plain_all(items: list[Any]) -> list[Any]:
    return [_plain(item) for item in items]


def test_only_the_hoso_left_out_are_handed_off_and_skipped_ones_without_hand_off_are_not_read() -> None:
    data = _good(5)
    handed: list[RawHoso] = []
    items = list(iter_visits(data, only=lambda i: i in (2, 4), hand_off=handed.append))
    assert [i.index for i in items if isinstance(i, ParsedVisit)] == [2, 4]
    assert [h.index for h in handed] == [1, 3, 5]
    assert all(h.facility_code == "79048" and h.files for h in handed)
    skipped = list(iter_visits(data, only=lambda i: i in (2, 4)))
    assert [i.index for i in skipped if isinstance(i, ParsedVisit)] == [2, 4]


def test_a_failing_hand_off_is_raised_not_reported_as_a_problem_of_the_file() -> None:
    def broken(_hoso: RawHoso) -> None:
        raise BrokenPipeError("the other process is gone")

    stream = iter_visits(_good(3), only=lambda i: i == 1, hand_off=broken)
    with pytest.raises(BrokenPipeError):
        list(stream)
