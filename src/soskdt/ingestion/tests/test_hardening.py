"""Hostile and broken files give one clear problem and nothing else; no exception escapes, nothing leaks."""

from __future__ import annotations

import base64
import random

import pytest

from soskdt.ingestion import samples
from soskdt.ingestion.parser import ParserLimits, iter_visits
from soskdt.ingestion.records import FileProblem, ParsedVisit
from soskdt.ingestion.validation import validate_visit

PASSWD_MARKERS = ("root:x:0:0", "/bin/bash", "/usr/sbin/nologin", "daemon:")


def _items(data: bytes, **kw: object) -> list[object]:
    return list(iter_visits(data, file_name="t.xml", **kw))  # type: ignore[arg-type]


def _visits(n: int = 3, seed: int = 7) -> list[samples.VisitSpec]:
    rng = random.Random(seed)
    return [samples.random_visit(rng, kind="exam") for _ in range(n)]


def _only_file_problem(items: list[object], code: str) -> FileProblem:
    assert len(items) == 1, items
    problem = items[0]
    assert isinstance(problem, FileProblem)
    assert problem.code == code
    assert problem.file == "t.xml"
    assert problem.message and problem.message != code
    return problem


def _inner_envelope(inner: bytes, *, kind: str = "XML1", encoded: bool = True) -> bytes:
    body = base64.b64encode(inner).decode() if encoded else inner.decode()
    return (
        "<GIAMDINHHS><THONGTINDONVI><MACSKCB>79048</MACSKCB></THONGTINDONVI><THONGTINHOSO><NGAYLAP>20250315</NGAYLAP>"
        f"<SOLUONGHOSO>1</SOLUONGHOSO><DANHSACHHOSO><HOSO><FILEHOSO><LOAIHOSO>{kind}</LOAIHOSO><NOIDUNGFILE>{body}"
        "</NOIDUNGFILE></FILEHOSO></HOSO></DANHSACHHOSO></THONGTINHOSO></GIAMDINHHS>"
    ).encode()


def _text_of(items: list[object]) -> str:
    return repr(items) + "".join(
        repr(getattr(i, "tables", "")) + repr(getattr(i, "raw_documents", "")) for i in items
    )


XXE_OUTER = b"""<?xml version="1.0"?>
<!DOCTYPE GIAMDINHHS [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<GIAMDINHHS><THONGTINDONVI><MACSKCB>&xxe;</MACSKCB></THONGTINDONVI></GIAMDINHHS>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<GIAMDINHHS><THONGTINDONVI><MACSKCB>&lol9;</MACSKCB></THONGTINDONVI></GIAMDINHHS>"""


def test_xxe_in_the_envelope_is_refused_and_the_file_content_never_appears() -> None:
    items = _items(XXE_OUTER)
    _only_file_problem(items, "XML_DTD_FORBIDDEN")
    text = _text_of(items)
    assert not any(marker in text for marker in PASSWD_MARKERS)


def test_xxe_inside_an_inner_document_refuses_that_visit_only() -> None:
    inner = b'<?xml version="1.0"?><!DOCTYPE TONG_HOP [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><TONG_HOP><MA_LK>&xxe;</MA_LK></TONG_HOP>'
    for encoded in (True, False):
        data = _inner_envelope(
            inner if encoded else inner.replace(b"&", b"&amp;").replace(b"<", b"&lt;"), encoded=encoded
        )
        items = _items(data)
        codes = [getattr(i, "code", None) for i in items]
        assert codes == ["INNER_DTD_FORBIDDEN"], items
        assert items[0].extra["index"] == 1  # type: ignore[attr-defined]
        assert not any(marker in _text_of(items) for marker in PASSWD_MARKERS)


def test_xxe_with_the_inner_doctype_hidden_in_utf16_is_still_refused() -> None:
    inner = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE TONG_HOP [<!ENTITY x SYSTEM "file:///etc/passwd">]><TONG_HOP><MA_LK>&x;</MA_LK></TONG_HOP>'
    items = _items(_inner_envelope(inner.encode("utf-16")))
    assert [getattr(i, "code", None) for i in items] == ["INNER_DTD_FORBIDDEN"]
    assert not any(marker in _text_of(items) for marker in PASSWD_MARKERS)


def test_billion_laughs_is_refused_without_expanding_anything() -> None:
    items = _items(BILLION_LAUGHS)
    _only_file_problem(items, "XML_DTD_FORBIDDEN")
    assert "lollol" not in _text_of(items)


def test_billion_laughs_in_an_inner_document_refuses_the_visit() -> None:
    inner = BILLION_LAUGHS.replace(b"GIAMDINHHS><THONGTINDONVI><MACSKCB>", b"TONG_HOP><MA_LK>").replace(
        b"</MACSKCB></THONGTINDONVI></GIAMDINHHS>", b"</MA_LK></TONG_HOP>"
    )
    items = _items(_inner_envelope(inner))
    assert [getattr(i, "code", None) for i in items] == ["INNER_DTD_FORBIDDEN"]


def test_doctype_anywhere_in_the_file_refuses_it() -> None:
    good = samples.build_envelope("79048", _visits(1))
    late = good.replace(b"</GIAMDINHHS>", b"</GIAMDINHHS><!DOCTYPE x>")
    items = _items(late)
    assert isinstance(items[-1], FileProblem) and items[-1].code == "XML_DTD_FORBIDDEN"


def test_base64_bomb_is_refused_before_decoding() -> None:
    # 4 MB of base64 that would decode to 3 MB of zeros, against a 1 MB limit.
    bomb = base64.b64encode(b"\0" * (3 * 1024 * 1024)).decode()
    data = _inner_envelope(b"").replace(
        b"<NOIDUNGFILE></NOIDUNGFILE>", f"<NOIDUNGFILE>{bomb}</NOIDUNGFILE>".encode()
    )
    items = _items(data, limits=ParserLimits(max_inner_bytes=1024 * 1024))
    assert [getattr(i, "code", None) for i in items] == ["INNER_TOO_LARGE"]


def test_base64_text_beyond_libxml2_text_limit_stops_the_file_with_a_clear_problem() -> None:
    # Without huge_tree libxml2 refuses text nodes over 10 MB: the visits before are kept.
    good = samples.build_envelope("79048", _visits(2))
    bomb = (
        b"<HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>"
        + b"QUFB" * 2_800_000
        + b"</NOIDUNGFILE></FILEHOSO></HOSO>"
    )
    data = good.replace(b"</DANHSACHHOSO>", bomb + b"</DANHSACHHOSO>")
    items = _items(data)
    assert [type(i) for i in items] == [ParsedVisit, ParsedVisit, FileProblem]
    assert items[-1].code == "XML_LIMIT_EXCEEDED"  # type: ignore[attr-defined]


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.5, 0.77, 0.93, 0.999])
def test_truncated_file_yields_the_complete_visits_then_xml_truncated(fraction: float) -> None:
    visits = _visits(6)
    data = samples.build_envelope("79048", visits)
    cut = int(len(data) * fraction)
    items = _items(data[:cut])
    parsed = [i for i in items if isinstance(i, ParsedVisit)]
    assert isinstance(items[-1], FileProblem) and items[-1].code == "XML_TRUNCATED", items[-1]
    assert all(isinstance(i, ParsedVisit) for i in items[:-1])
    complete = data[:cut].count(b"</HOSO>")
    assert [v.ma_lk for v in parsed] == [v.ma_lk for v in visits[:complete]]


def test_truncation_at_every_byte_of_a_small_file_never_raises() -> None:
    data = samples.build_envelope("79048", _visits(1), encoding="embedded")
    for cut in range(0, len(data), 7):
        items = _items(data[:cut])
        assert items, cut
        assert isinstance(items[-1], FileProblem), (cut, items[-1])


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"PK\x03\x04\x14\x00\x06\x00",
        b"hello, world",
        b"\x00\x01\x02\x03",
        "Xin chào".encode(),
    ],
)
def test_non_xml_file_gives_xml_not_xml(data: bytes) -> None:
    _only_file_problem(_items(data), "XML_NOT_XML")


@pytest.mark.parametrize("data", [b"", b"   \r\n\t  ", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
def test_empty_file_gives_xml_file_empty(data: bytes) -> None:
    _only_file_problem(_items(data), "XML_FILE_EMPTY")


@pytest.mark.parametrize(
    "data",
    [
        b"<TONG_HOP><MA_LK>1</MA_LK></TONG_HOP>",
        b'<?xml version="1.0"?>\n<!-- export --><html><body>Not found</body></html>',
        b"<CHI_TIEU_TRANG_THAI_KCB><DSACH_TRANG_THAI_KCB/></CHI_TIEU_TRANG_THAI_KCB>",
    ],
)
def test_wrong_root_element_gives_envelope_root_invalid(data: bytes) -> None:
    problem = _only_file_problem(_items(data), "ENVELOPE_ROOT_INVALID")
    assert problem.value and problem.value != "GIAMDINHHS"


def test_wrong_root_of_a_large_file_is_refused_without_reading_it() -> None:
    class Endless:
        reads = 0

        def read(self, n: int = -1) -> bytes:
            self.reads += 1
            return b"<TONG_HOP>" if self.reads == 1 else b"<X>" * 1000

        def seekable(self) -> bool:
            return False

    stream = Endless()
    items = list(iter_visits(stream, file_name="t.xml"))  # type: ignore[arg-type]
    assert [getattr(i, "code", None) for i in items] == ["ENVELOPE_ROOT_INVALID"]
    assert stream.reads == 1


def test_deep_nesting_in_the_envelope_is_refused() -> None:
    deep = b"<X>" * 100 + b"</X>" * 100
    data = samples.build_envelope("79048", _visits(1)).replace(b"</MACSKCB>", b"</MACSKCB>" + deep)
    items = _items(data)
    assert isinstance(items[-1], FileProblem) and items[-1].code == "XML_TOO_DEEP"


def test_nesting_beyond_libxml2_limit_is_refused_too() -> None:
    deep = b"<X>" * 300 + b"</X>" * 300
    data = samples.build_envelope("79048", _visits(1)).replace(b"<HOSO>", b"<HOSO>" + deep, 1)
    items = _items(data)
    assert [getattr(i, "code", None) for i in items] == ["XML_TOO_DEEP"]


def test_deep_nesting_inside_an_inner_document_refuses_that_visit() -> None:
    inner = b"<TONG_HOP><MA_LK>1</MA_LK><DU_PHONG>" + b"<X>" * 80 + b"</X>" * 80 + b"</DU_PHONG></TONG_HOP>"
    items = _items(_inner_envelope(inner))
    assert [getattr(i, "code", None) for i in items] == ["INNER_TOO_DEEP"]


def test_limits_are_read_from_settings(settings: pytest.FixtureRequest) -> None:
    settings.SOSKDT = {**settings.SOSKDT, "INGEST_LIMITS": {"max_visits": 2, "max_depth": 20}}  # type: ignore[attr-defined]
    limits = ParserLimits.from_settings()
    assert (limits.max_visits, limits.max_depth, limits.max_rows_per_table) == (2, 20, 20_000)
    items = list(iter_visits(samples.build_envelope("79048", _visits(3)), file_name="t.xml"))
    assert [type(i) for i in items] == [ParsedVisit, ParsedVisit, FileProblem]
    assert items[-1].code == "ENVELOPE_TOO_MANY_VISITS"  # type: ignore[attr-defined]


def test_default_limits() -> None:
    limits = ParserLimits()
    assert limits.max_file_bytes == 2 * 1024**3
    assert limits.max_inner_bytes == 50 * 1024**2
    assert (limits.max_depth, limits.max_visits, limits.max_rows_per_table) == (64, 200_000, 20_000)


def test_hostile_files_never_raise_from_validation_either() -> None:
    for data in (XXE_OUTER, BILLION_LAUGHS, b"", b"<GIAMDINHHS>", b"<GIAMDINHHS><X></Y></GIAMDINHHS>"):
        for item in iter_visits(data, file_name="t.xml"):
            if isinstance(item, ParsedVisit):
                validate_visit(item)


def test_xxe_in_a_utf16_envelope_is_refused() -> None:
    text = XXE_OUTER.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    items = _items(text.encode("utf-16"))
    _only_file_problem(items, "XML_DTD_FORBIDDEN")
    assert not any(marker in _text_of(items) for marker in PASSWD_MARKERS)


def test_a_utf16_envelope_is_read() -> None:
    visits = _visits(2)
    text = (
        samples.build_envelope("79048", visits).decode().replace('encoding="utf-8"', 'encoding="UTF-16"', 1)
    )
    items = _items(text.encode("utf-16"))
    assert [getattr(i, "ma_lk", None) for i in items] == [v.ma_lk for v in visits]


def test_a_syntax_error_before_the_first_visit_is_malformed_not_non_xml() -> None:
    data = samples.build_envelope("79048", _visits(1)).replace(b"</MACSKCB>", b"</MACSKCBX>")
    _only_file_problem(_items(data), "XML_MALFORMED")


def test_a_stream_of_unknown_size_is_cut_at_the_size_limit() -> None:
    import gzip
    import io

    data = samples.build_envelope("79048", _visits(6))
    stream = gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(data)))
    items = list(iter_visits(stream, file_name="t.xml", limits=ParserLimits(max_file_bytes=len(data) // 2)))
    assert isinstance(items[-1], FileProblem) and items[-1].code == "XML_FILE_TOO_LARGE"
    assert all(isinstance(i, ParsedVisit) for i in items[:-1])
