"""Mutated envelopes (byte flips, truncation, deleted/duplicated elements, random values) never make the parser
or the validator raise: every outcome is a visit or a problem."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from soskdt.core.errors import Problem
from soskdt.ingestion import samples
from soskdt.ingestion.parser import ParserLimits, iter_visits
from soskdt.ingestion.records import FileProblem, ParsedVisit, ValidatedVisit
from soskdt.ingestion.validation import validate_visit

_VISITS = samples.sample_visits(seed=5, n=3)
BASE64 = samples.build_envelope("79048", _VISITS)
EMBEDDED = samples.build_envelope("79048", _VISITS, encoding="embedded", signature_place="inside")
LIMITS = ParserLimits(max_rows_per_table=50, max_visits=10)
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def _run(data: bytes) -> None:
    items = list(iter_visits(data, file_name="fuzz.xml", limits=LIMITS))
    for item in items:
        assert isinstance(item, (ParsedVisit, Problem))
        if isinstance(item, ParsedVisit):
            checked = validate_visit(item, today=dt.date(2026, 1, 1))
            assert isinstance(checked, ValidatedVisit)
            assert all(isinstance(p, Problem) and p.code for p in checked.problems)
        else:
            assert item.code and item.message
    fatal = [
        i
        for i in items
        if isinstance(i, FileProblem) and i.severity == "error" and not i.code.startswith("ENVELOPE_FACILITY")
    ]
    assert len(fatal) <= 1
    if fatal:
        assert items[-1] is fatal[0] or items.index(fatal[0]) == 0


@FUZZ
@given(
    source=st.sampled_from([BASE64, EMBEDDED]),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_byte_flips(source: bytes, flips: list[tuple[float, int]]) -> None:
    data = bytearray(source)
    for where, byte in flips:
        data[int(where * len(data))] = byte
    _run(bytes(data))


@FUZZ
@given(source=st.sampled_from([BASE64, EMBEDDED]), where=st.floats(0, 1))
def test_truncation(source: bytes, where: float) -> None:
    _run(source[: int(where * len(source))])


def _elements(tree: etree._Element) -> list[etree._Element]:
    return [e for e in tree.iter() if e.getparent() is not None]


@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1),
    operations=st.lists(
        st.sampled_from(["delete", "duplicate", "text", "move", "rename"]), min_size=1, max_size=6
    ),
)
def test_element_deletion_duplication_and_random_values(seed: int, operations: list[str]) -> None:
    rng = random.Random(seed)
    tree = etree.fromstring(EMBEDDED)
    alphabet = "0123456789;.,- AZaz<>&\"'ĐđấỹỰ\u00a0\t\n" + "\U0001f600"
    for operation in operations:
        elements = _elements(tree)
        if not elements:
            break
        element = rng.choice(elements)
        parent = element.getparent()
        assert parent is not None
        if operation == "delete":
            parent.remove(element)
        elif operation == "duplicate":
            parent.insert(parent.index(element), etree.fromstring(etree.tostring(element)))
        elif operation == "text":
            element.text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        elif operation == "move":
            target = rng.choice(_elements(tree) or [tree])
            if element not in target.iterancestors() and element is not target:
                parent.remove(element)
                target.append(element)
        else:
            element.tag = rng.choice(
                ["HOSO", "FILEHOSO", "LOAIHOSO", "NOIDUNGFILE", "MA_LK", "TONG_HOP", "X"]
            )
    _run(etree.tostring(tree, xml_declaration=True, encoding="utf-8"))


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), value=st.text(max_size=60))
def test_random_text_in_every_kind_of_field(seed: int, value: str) -> None:
    rng = random.Random(seed)
    tables = samples.visit_tables(rng.choice(_VISITS), "79048")
    for _ in range(5):
        name = rng.choice(list(tables))
        row = rng.choice(tables[name])
        row[rng.choice(list(row))] = "".join(
            ch for ch in value if ch.isprintable() and ch not in "\ufffe\uffff"
        )
    for encoding in ("base64", "embedded"):
        _run(samples.build_envelope("79048", [tables], encoding=encoding))  # type: ignore[arg-type]
