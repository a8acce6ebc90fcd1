"""One sample per parser code (whole file and one HOSO) that produces exactly that code."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from soskdt.ingestion import samples
from soskdt.ingestion.parser import ParserLimits, VisitStream, iter_visits
from soskdt.ingestion.records import FileProblem, ParsedVisit
from soskdt.ingestion.validation import validate_visit

FACILITY = "79048"


def _visits(n: int = 2) -> list[samples.VisitSpec]:
    rng = random.Random(21)
    return [samples.random_visit(rng, kind="exam") for _ in range(n)]


def _good(n: int = 2, **kw: object) -> bytes:
    return samples.build_envelope(FACILITY, _visits(n), **kw)  # type: ignore[arg-type]


def _with_table(kind: str, body: str) -> bytes:
    """A valid two-visit file whose second HOSO gets one more FILEHOSO."""
    data = _good()
    extra = (
        f"<FILEHOSO><LOAIHOSO>{kind}</LOAIHOSO><NOIDUNGFILE>{body}</NOIDUNGFILE></FILEHOSO></HOSO>".encode()
    )
    last = data.rindex(b"</HOSO>")
    return data[:last] + extra + data[last + len(b"</HOSO>") :]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# code -> (file bytes or path maker, limits)
FILE_CASES: dict[str, tuple[Callable[[Path], bytes | Path], ParserLimits | None]] = {
    "XML_FILE_EMPTY": (lambda _: b"", None),
    "XML_FILE_TOO_LARGE": (lambda _: _good(), ParserLimits(max_file_bytes=10_000)),
    "XML_FILE_UNREADABLE": (lambda tmp: tmp / "missing.xml", None),
    "XML_NOT_XML": (lambda _: b"MA_LK;HO_TEN\n1;An\n", None),
    "XML_MALFORMED": (lambda _: _good().replace(b"</NGAYLAP>", b"</NGAYLAPX>"), None),
    "XML_TRUNCATED": (lambda _: _good()[:-200], None),
    "XML_DTD_FORBIDDEN": (
        lambda _: (
            b'<?xml version="1.0"?><!DOCTYPE GIAMDINHHS SYSTEM "http://example.com/x.dtd">' + _good()[38:]
        ),
        None,
    ),
    "XML_TOO_DEEP": (
        lambda _: _good().replace(b"</MACSKCB>", b"</MACSKCB>" + b"<A>" * 70 + b"</A>" * 70),
        None,
    ),
    "XML_LIMIT_EXCEEDED": (
        lambda _: _good().replace(b"<NGAYLAP>", b"<GHI_CHU>" + b"x" * 10_100_000 + b"</GHI_CHU><NGAYLAP>"),
        None,
    ),
    "ENVELOPE_ROOT_INVALID": (lambda _: b"<TONG_HOP><MA_LK>1</MA_LK></TONG_HOP>", None),
    "ENVELOPE_FACILITY_INVALID": (
        lambda _: _good().replace(b"<MACSKCB>79048</MACSKCB>", b"<MACSKCB>7904A</MACSKCB>"),
        None,
    ),
    "ENVELOPE_NO_VISITS": (lambda _: samples.build_envelope(FACILITY, []), None),
    "ENVELOPE_COUNT_MISMATCH": (lambda _: samples.build_envelope(FACILITY, _visits(2), count=3), None),
    "ENVELOPE_DATE_INVALID": (
        lambda _: samples.build_envelope(FACILITY, _visits(2), created_on="2025-03-15"),
        None,
    ),
    "ENVELOPE_TOO_MANY_VISITS": (lambda _: _good(3), ParserLimits(max_visits=2)),
}

# code -> (file bytes, limits); the second HOSO is refused, the first one is read
VISIT_CASES: dict[str, tuple[Callable[[], bytes], ParserLimits | None]] = {
    "FILEHOSO_TYPE_INVALID": (lambda: _with_table("BANG1", _b64("<BANG_KHAC><A>1</A></BANG_KHAC>")), None),
    "INNER_EMPTY": (lambda: _with_table("XML5", "  \r\n "), None),
    "INNER_BASE64_INVALID": (lambda: _with_table("XML5", "PFRPTkdfSE9QPg*=="), None),
    "INNER_TOO_LARGE": (
        lambda: _with_table("XML5", _b64("<X>" + "a" * 60_000 + "</X>")),
        ParserLimits(max_inner_bytes=50_000),
    ),
    "INNER_NOT_XML": (lambda: _with_table("XML5", _b64("Xin chào, đây không phải XML")), None),
    "INNER_DTD_FORBIDDEN": (lambda: _with_table("XML5", _b64('<!DOCTYPE X SYSTEM "x.dtd"><X/>')), None),
    "INNER_TOO_DEEP": (
        lambda: _with_table(
            "XML15",
            _b64("<CHI_TIEU_DIEUTRI_BENHLAO>" + "<A>" * 70 + "</A>" * 70 + "</CHI_TIEU_DIEUTRI_BENHLAO>"),
        ),
        None,
    ),
    "INNER_ROOT_INVALID": (lambda: _with_table("XML2", _b64("<TONG_HOP><MA_LK>1</MA_LK></TONG_HOP>")), None),
    "TABLE_TOO_MANY_ROWS": (lambda: _good(), ParserLimits(max_rows_per_table=3)),
}

# code -> file whose visits carry the code in ParsedVisit.problems (reported again by validate_visit)
RECORD_CASES: dict[str, Callable[[], bytes]] = {
    "FILEHOSO_TYPE_INFERRED": lambda: _good(1).replace(
        b"<LOAIHOSO>XML3</LOAIHOSO>", b"<LOAIHOSO>BANG3</LOAIHOSO>"
    ),
    "FIELD_REPEATED": lambda: _good(1, encoding="embedded").replace(
        b"<HO_TEN>", "<HO_TEN>Trùng</HO_TEN><HO_TEN>".encode(), 1
    ),
}

COVERED = {*FILE_CASES, *VISIT_CASES, *RECORD_CASES, "ENVELOPE_FACILITY_MISSING", "HOSO_UNREADABLE"}


@pytest.mark.parametrize("code", FILE_CASES)
def test_file_problem(code: str, tmp_path: Path) -> None:
    make, limits = FILE_CASES[code]
    items = list(iter_visits(make(tmp_path), file_name="t.xml", limits=limits))
    problems = [i for i in items if isinstance(i, FileProblem)]
    assert [p.code for p in problems] == [code], items
    assert all(isinstance(i, (ParsedVisit, FileProblem)) for i in items)
    assert problems[0].message and problems[0].file == "t.xml"


def test_missing_facility_is_a_file_problem_and_an_error_of_every_visit() -> None:
    data = _good().replace(b"<MACSKCB>79048</MACSKCB>", b"")
    items = list(iter_visits(data, file_name="t.xml"))
    assert [getattr(i, "code", None) for i in items] == ["ENVELOPE_FACILITY_MISSING", None, None]
    for visit in items[1:]:
        assert isinstance(visit, ParsedVisit) and visit.facility_code is None
        assert [p.code for p in validate_visit(visit).errors] == ["ENVELOPE_FACILITY_MISSING"]


@pytest.mark.parametrize("code", VISIT_CASES)
def test_visit_problem_refuses_that_hoso_only(code: str) -> None:
    make, limits = VISIT_CASES[code]
    items = list(iter_visits(make(), file_name="t.xml", limits=limits))
    refused = [i for i in items if not isinstance(i, ParsedVisit)]
    assert {p.code for p in refused} == {code}, refused  # type: ignore[attr-defined]
    assert not any(isinstance(p, FileProblem) for p in refused)
    for problem in refused:
        assert problem.extra["index"] in (1, 2)  # type: ignore[attr-defined]
        assert problem.message and problem.severity == "error"  # type: ignore[attr-defined]
    read = [i for i in items if isinstance(i, ParsedVisit)]
    if code != "TABLE_TOO_MANY_ROWS":
        assert [v.index for v in read] == [1]
        assert refused[0].record == _visits(2)[1].ma_lk  # type: ignore[attr-defined]


@pytest.mark.parametrize("code", RECORD_CASES)
def test_record_problem_found_by_the_parser_is_reported_by_validation(code: str) -> None:
    (visit,) = list(iter_visits(RECORD_CASES[code](), file_name="t.xml"))
    assert isinstance(visit, ParsedVisit)
    assert [p.code for p in visit.problems] == [code]
    checked = validate_visit(visit)
    assert {p.code for p in checked.problems} == {code}
    assert checked.problems[0].record == visit.ma_lk


def test_an_unexpected_failure_in_one_hoso_is_reported_and_the_others_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = VisitStream._read_table
    calls = {"n": 0}

    def flaky(self: VisitStream, *args: object, **kw: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return original(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(VisitStream, "_read_table", flaky)
    items = list(iter_visits(_good(), file_name="t.xml"))
    assert [getattr(i, "code", None) for i in items] == ["HOSO_UNREADABLE", None]
    assert items[0].extra["index"] == 1  # type: ignore[union-attr]


def test_an_unexpected_failure_in_validation_is_an_error_of_the_visit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from soskdt.ingestion import validation

    (visit,) = list(iter_visits(_good(1), file_name="t.xml"))
    monkeypatch.setattr(validation, "_cross_checks", lambda *a, **k: 1 / 0)
    checked = validate_visit(visit)  # type: ignore[arg-type]
    assert [p.code for p in checked.errors] == ["HOSO_UNREADABLE"]
