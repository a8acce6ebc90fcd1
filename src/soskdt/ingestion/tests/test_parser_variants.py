"""Every real-world variant of DOMAIN.md §5 is read to the same rows."""

from __future__ import annotations

import base64
import io
import random
from pathlib import Path

import pytest

from soskdt.ingestion import samples
from soskdt.ingestion.parser import iter_visits
from soskdt.ingestion.records import FileProblem, ParsedVisit
from soskdt.ingestion.validation import validate_visit

FACILITY = "79048"


@pytest.fixture(scope="module")
def visits() -> list[samples.VisitSpec]:
    return samples.sample_visits(seed=11, n=8)


@pytest.fixture(scope="module")
def reference(visits: list[samples.VisitSpec]) -> list[dict[str, list[dict[str, str]]]]:
    return [samples.visit_tables(v, FACILITY) for v in visits]


def _parsed(data: bytes | Path | io.BufferedIOBase, **kw: object) -> list[ParsedVisit]:
    items = list(iter_visits(data, file_name="t.xml", **kw))  # type: ignore[arg-type]
    problems = [i for i in items if not isinstance(i, ParsedVisit)]
    assert not problems, problems
    return [i for i in items if isinstance(i, ParsedVisit)]


def _assert_same(parsed: list[ParsedVisit], reference: list[dict[str, list[dict[str, str]]]]) -> None:
    assert len(parsed) == len(reference)
    for index, (visit, tables) in enumerate(zip(parsed, reference, strict=True), start=1):
        assert visit.index == index
        assert visit.facility_code == FACILITY
        assert visit.ma_lk == tables["XML1"][0]["MA_LK"]
        assert visit.tables == tables
        assert validate_visit(visit).is_valid


VARIANTS = {
    "base64": {},
    "embedded": {"encoding": "embedded"},
    "escaped text": {"encoding": "escaped"},
    "cdata inner document": {"encoding": "cdata"},
    "signature inside THONGTINDONVI": {"signature_place": "inside"},
    "no signature": {"signature_place": "none"},
    "CDATA values": {"cdata": True, "encoding": "embedded"},
    "CDATA values base64": {"cdata": True},
    "BOM outer and inner": {"bom": True},
    "BOM embedded": {"bom": True, "encoding": "embedded"},
    "CRLF": {"crlf": True},
    "CRLF embedded": {"crlf": True, "encoding": "embedded"},
    "whitespace around values": {"pad": True},
    "whitespace embedded": {"pad": True, "encoding": "embedded", "crlf": True},
    "no xmlns declarations": {"namespaces": False},
    "inner without declaration": {"inner_declaration": False},
    "everything at once": {
        "bom": True,
        "crlf": True,
        "cdata": True,
        "pad": True,
        "signature_place": "inside",
    },
}


@pytest.mark.parametrize("options", VARIANTS.values(), ids=VARIANTS.keys())
def test_variant_is_read_to_the_same_rows(
    options: dict[str, object],
    visits: list[samples.VisitSpec],
    reference: list[dict[str, list[dict[str, str]]]],
) -> None:
    data = samples.build_envelope(FACILITY, visits, **options)  # type: ignore[arg-type]
    _assert_same(_parsed(data), reference)


@pytest.mark.parametrize("encoding", ["base64", "embedded"])
def test_fields_in_any_element_order_are_matched_by_name(
    encoding: str, visits: list[samples.VisitSpec], reference: list[dict[str, list[dict[str, str]]]]
) -> None:
    data = samples.build_envelope(FACILITY, visits, encoding=encoding, shuffle=random.Random(3))  # type: ignore[arg-type]
    parsed = _parsed(data)
    assert [{t: [dict(sorted(r.items())) for r in rows] for t, rows in v.tables.items()} for v in parsed] == [
        {t: [dict(sorted(r.items())) for r in rows] for t, rows in tab.items()} for tab in reference
    ]
    assert list(parsed[0].tables["XML1"][0]) != list(reference[0]["XML1"][0])  # really shuffled
    assert all(validate_visit(v).is_valid for v in parsed)


def test_several_hoso_in_one_file_come_out_in_order_with_their_position(
    visits: list[samples.VisitSpec],
) -> None:
    stream = iter_visits(samples.build_envelope(FACILITY, visits), file_name="t.xml")
    parsed = list(stream)
    assert [v.index for v in parsed] == list(range(1, len(visits) + 1))  # type: ignore[union-attr]
    assert stream.envelope.visit_count == stream.envelope.declared_count == len(visits)
    assert stream.envelope.complete and stream.envelope.created_on == "20250315"


@pytest.mark.parametrize("place", ["last", "inside", "none"])
def test_signature_presence_and_place_are_recorded(place: str, visits: list[samples.VisitSpec]) -> None:
    stream = iter_visits(
        samples.build_envelope(FACILITY, visits[:2], signature_place=place), file_name="t.xml"
    )  # type: ignore[arg-type]
    assert len(list(stream)) == 2
    assert stream.envelope.signature == (None if place == "none" else place)
    assert stream.envelope.signed is (place != "none")


def test_source_may_be_a_path_bytes_or_a_stream(
    tmp_path: Path, visits: list[samples.VisitSpec], reference: list[dict[str, list[dict[str, str]]]]
) -> None:
    data = samples.build_envelope(FACILITY, visits)
    path = tmp_path / "hs.xml"
    path.write_bytes(data)

    class OneWay(io.RawIOBase):
        def __init__(self) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            chunk = self._data.read(min(len(buffer), 1000))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    for source in (path, str(path), data, bytearray(data), io.BytesIO(data), io.BufferedReader(OneWay())):
        _assert_same(_parsed(source), reference)  # type: ignore[arg-type]
    assert next(iter(iter_visits(path))).file == str(path)  # type: ignore[union-attr]


def test_values_are_stripped_and_cdata_is_plain_text() -> None:
    inner = (
        "\ufeff<?xml version='1.0' encoding='utf-8'?>\r\n<TONG_HOP xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'>\r\n"
        "<MA_LK>\r\n  LK-1  \r\n</MA_LK><HO_TEN><![CDATA[ Nguyễn Văn <An> & con ]]></HO_TEN><GHI_CHU/><DIA_CHI>  </DIA_CHI>"
        "<CHAN_DOAN_RV>A &amp; B</CHAN_DOAN_RV></TONG_HOP>"
    )
    data = samples.build_envelope(FACILITY, [{"XML1": inner}])
    (visit,) = _parsed(data)
    assert visit.ma_lk == "LK-1"
    assert visit.tables["XML1"] == [
        {
            "MA_LK": "LK-1",
            "HO_TEN": "Nguyễn Văn <An> & con",
            "GHI_CHU": "",
            "DIA_CHI": "",
            "CHAN_DOAN_RV": "A & B",
        }
    ]


def test_inner_document_may_have_a_default_namespace() -> None:
    inner = "<TONG_HOP xmlns='urn:x'><MA_LK>LK-9</MA_LK><HO_TEN>An</HO_TEN></TONG_HOP>"
    for encoding in ("base64", "embedded"):
        (visit,) = _parsed(samples.build_envelope(FACILITY, [{"XML1": inner}], encoding=encoding))  # type: ignore[arg-type]
        assert visit.tables["XML1"] == [{"MA_LK": "LK-9", "HO_TEN": "An"}]


def test_envelope_in_a_default_namespace_is_read(
    visits: list[samples.VisitSpec], reference: list[dict[str, list[dict[str, str]]]]
) -> None:
    data = samples.build_envelope(FACILITY, visits[:2], encoding="embedded").replace(
        b"<GIAMDINHHS ", b'<GIAMDINHHS xmlns="urn:bhxh" ', 1
    )
    _assert_same(_parsed(data), reference[:2])


def test_base64_with_line_breaks_is_accepted(
    visits: list[samples.VisitSpec], reference: list[dict[str, list[dict[str, str]]]]
) -> None:
    data = samples.build_envelope(FACILITY, visits[:1])
    start = data.index(b"<NOIDUNGFILE>") + len(b"<NOIDUNGFILE>")
    end = data.index(b"</NOIDUNGFILE>")
    wrapped = base64.encodebytes(base64.b64decode(data[start:end])).replace(b"\n", b"\r\n")
    _assert_same(_parsed(data[:start] + wrapped + data[end:]), reference[:1])


def test_lists_and_single_records_keep_row_order(
    visits: list[samples.VisitSpec], reference: list[dict[str, list[dict[str, str]]]]
) -> None:
    (visit,) = _parsed(samples.build_envelope(FACILITY, [visits[2]]))
    assert [r["STT"] for r in visit.tables["XML3"]] == [
        str(i) for i in range(1, len(reference[2]["XML3"]) + 1)
    ]
    assert len(visit.tables["XML1"]) == 1
    assert visit.item_count == sum(len(rows) for rows in reference[2].values())


def test_birth_death_and_other_tables_are_kept_as_raw_documents() -> None:
    xml9 = (
        "<CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH><DSACH_GIAYCHUNGSINH><DU_LIEU_GIAY_CHUNG_SINH><MA_LK>LK-1</MA_LK>"
        "<HO_TEN_CON>Bé An</HO_TEN_CON></DU_LIEU_GIAY_CHUNG_SINH></DSACH_GIAYCHUNGSINH></CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH>"
    )
    xml11 = "<CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI><MA_LK>LK-1</MA_LK><SO_CT>12</SO_CT></CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI>"
    xml15 = (
        "<CHI_TIEU_DIEUTRI_BENHLAO><DSACH_CHITIET_DIEUTRI_BENHLAO><CHITIET_DIEUTRI_BENHLAO><MA_LK>LK-1</MA_LK></CHITIET_DIEUTRI_BENHLAO>"
        "<CHITIET_DIEUTRI_BENHLAO><MA_LK>LK-1</MA_LK><STT>2</STT></CHITIET_DIEUTRI_BENHLAO></DSACH_CHITIET_DIEUTRI_BENHLAO></CHI_TIEU_DIEUTRI_BENHLAO>"
    )
    xml6 = "<CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS><DSACH_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS/></CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS>"
    tables = {
        "XML1": "<TONG_HOP><MA_LK>LK-1</MA_LK></TONG_HOP>",
        "XML9": xml9,
        "XML11": xml11,
        "XML15": xml15,
        "XML6": xml6,
    }
    for encoding in ("base64", "embedded"):
        (visit,) = _parsed(samples.build_envelope(FACILITY, [tables], encoding=encoding))  # type: ignore[arg-type]
        assert set(visit.tables) == {"XML1"}
        assert set(visit.raw_documents) == {"XML6", "XML9", "XML11", "XML15"}
        births = visit.raw_documents["XML9"]
        assert births["root"] == "CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH"
        assert births["data"] == {
            "DSACH_GIAYCHUNGSINH": {"DU_LIEU_GIAY_CHUNG_SINH": [{"MA_LK": "LK-1", "HO_TEN_CON": "Bé An"}]}
        }
        assert "Bé An" in births["text"] and births["text"].lstrip().startswith(("<CHI_TIEU", "<?xml"))
        assert visit.raw_documents["XML11"]["data"] == {"MA_LK": "LK-1", "SO_CT": "12"}
        assert visit.raw_documents["XML15"]["data"]["DSACH_CHITIET_DIEUTRI_BENHLAO"][
            "CHITIET_DIEUTRI_BENHLAO"
        ] == [
            {"MA_LK": "LK-1"},
            {"MA_LK": "LK-1", "STT": "2"},
        ]


def test_missing_loaihoso_is_inferred_from_the_inner_root(visits: list[samples.VisitSpec]) -> None:
    data = samples.build_envelope(FACILITY, visits[:1]).replace(b"<LOAIHOSO>XML1</LOAIHOSO>", b"<LOAIHOSO/>")
    (visit,) = _parsed(data)
    assert "XML1" in visit.tables
    checked = validate_visit(visit)
    assert checked.is_valid and [w.code for w in checked.warnings] == ["FILEHOSO_TYPE_INFERRED"]


def test_loaihoso_is_case_and_space_insensitive(
    visits: list[samples.VisitSpec], reference: list[dict[str, list[dict[str, str]]]]
) -> None:
    data = samples.build_envelope(FACILITY, visits[:1]).replace(
        b"<LOAIHOSO>XML2</LOAIHOSO>", b"<LOAIHOSO> xml2\r\n</LOAIHOSO>"
    )
    _assert_same(_parsed(data), reference[:1])


def test_visit_without_xml1_has_no_key(visits: list[samples.VisitSpec]) -> None:
    tables = samples.visit_tables(visits[0], FACILITY)
    del tables["XML1"]
    (visit,) = _parsed(samples.build_envelope(FACILITY, [tables]))
    assert visit.ma_lk is None


def test_facility_given_after_the_visits_still_reaches_them(
    visits: list[samples.VisitSpec], reference: list[dict[str, list[dict[str, str]]]]
) -> None:
    data = samples.build_envelope(FACILITY, visits[:2])
    unit = data[data.index(b"<THONGTINDONVI>") : data.index(b"</THONGTINDONVI>") + len(b"</THONGTINDONVI>")]
    moved = data.replace(unit, b"").replace(b"</THONGTINHOSO>", b"</THONGTINHOSO>" + unit)
    _assert_same(_parsed(moved), reference[:2])


def test_visits_are_yielded_while_the_file_is_still_being_read(visits: list[samples.VisitSpec]) -> None:
    data = samples.build_envelope(FACILITY, visits * 10)
    source = io.BytesIO(data)
    stream = iter(iter_visits(source, file_name="t.xml"))
    first = next(stream)
    assert isinstance(first, ParsedVisit)
    assert source.tell() < len(data)


def test_unusual_but_well_formed_envelope_reports_file_problems_and_keeps_visits(
    visits: list[samples.VisitSpec],
) -> None:
    data = samples.build_envelope(FACILITY, visits[:2], count=5, created_on="15/03/2025")
    items = list(iter_visits(data, file_name="t.xml"))
    assert [type(i) for i in items] == [ParsedVisit, ParsedVisit, FileProblem, FileProblem]
    assert [(p.code, p.severity) for p in items[2:]] == [
        ("ENVELOPE_COUNT_MISMATCH", "warning"),
        ("ENVELOPE_DATE_INVALID", "warning"),
    ]  # type: ignore[union-attr]


def test_only_selected_hoso_are_read_for_resuming_or_sharing_the_work(
    visits: list[samples.VisitSpec],
) -> None:
    data = samples.build_envelope(FACILITY, visits)
    resumed = iter_visits(data, file_name="t.xml", only=lambda i: i > 5)
    assert [v.index for v in resumed] == [6, 7, 8]  # type: ignore[union-attr]
    assert resumed.envelope.visit_count == 8 and resumed.envelope.complete
    halves = [[v.index for v in iter_visits(data, only=lambda i, k=k: i % 2 == k)] for k in (0, 1)]  # type: ignore[union-attr]
    assert halves == [[2, 4, 6, 8], [1, 3, 5, 7]]


def test_a_gzip_stream_is_read_without_seeking(
    tmp_path: Path, visits: list[samples.VisitSpec], reference: list[dict[str, list[dict[str, str]]]]
) -> None:
    import gzip

    path = tmp_path / "hs.xml.gz"
    with gzip.open(path, "wb") as out:
        out.write(samples.build_envelope(FACILITY, visits))
    with gzip.open(path, "rb") as handle:
        handle.seek = None  # type: ignore[assignment,method-assign]  # must not be needed
        _assert_same(_parsed(handle), reference)  # type: ignore[arg-type]
