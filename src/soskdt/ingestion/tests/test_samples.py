"""The sample builder makes valid, consistent, realistic QĐ 130 files."""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal

import pytest

from soskdt.core.identifiers import PersonalId, parse_card_code
from soskdt.ingestion import samples
from soskdt.ingestion.catalogue import table
from soskdt.ingestion.parser import iter_visits
from soskdt.ingestion.records import ParsedVisit
from soskdt.ingestion.validation import validate_visit

TODAY = dt.date(2026, 6, 1)


@pytest.mark.parametrize("kind", samples.KINDS)
def test_every_kind_of_visit_is_valid_without_warnings(kind: str) -> None:
    rng = random.Random(kind)
    visits = [samples.random_visit(rng, kind=kind) for _ in range(15)]
    for item in iter_visits(samples.build_envelope("79048", visits), file_name="t.xml"):
        assert isinstance(item, ParsedVisit), item
        checked = validate_visit(item, today=TODAY)
        assert not checked.problems, [(p.code, p.table, p.field, p.value) for p in checked.problems]


def test_kinds_have_their_distinctive_tables_and_lines() -> None:
    rng = random.Random(1)
    by_kind = {
        kind: samples.visit_tables(samples.random_visit(rng, kind=kind), "79048") for kind in samples.KINDS
    }
    assert by_kind["exam"]["XML1"][0]["MA_LOAI_KCB"] == "01"
    assert (
        by_kind["chronic_refill"]["XML1"][0]["MA_LOAI_KCB"] == "07"
        and "XML3" not in by_kind["chronic_refill"]
    )
    assert {"XML5", "XML7", "XML8"} <= set(by_kind["inpatient"]) and by_kind["inpatient"]["XML1"][0][
        "MA_LOAI_KCB"
    ] == "03"
    imaging = [r for r in by_kind["imaging"]["XML3"] if r["MA_NHOM"] == "2"]
    assert imaging and all(r["MO_TA"] and r["KET_LUAN"] for r in by_kind["imaging"]["XML4"])
    assert any(r["MA_NHOM"] == "3" and "Điện tim" in r["TEN_DICH_VU"] for r in by_kind["ecg"]["XML3"])
    assert any(r["MA_NHOM"] == "8" and r["PP_VO_CAM"] for r in by_kind["surgery"]["XML3"])
    assert by_kind["referral"]["XML13"][0]["MA_NOI_DEN"] == by_kind["referral"]["XML1"][0]["MA_NOI_DEN"] != ""
    assert by_kind["referral"]["XML1"][0]["MA_LOAI_RV"] == "2"
    assert by_kind["follow_up"]["XML14"][0]["NGAY_HEN_KL"] > by_kind["follow_up"]["XML1"][0]["NGAY_RA"]


def test_totals_add_up_to_the_lines() -> None:
    tables = samples.visit_tables(samples.random_visit(random.Random(4), kind="surgery"), "79048")
    lines = tables.get("XML2", []) + tables.get("XML3", [])
    x1 = tables["XML1"][0]
    assert Decimal(x1["T_TONGCHI_BV"]) == sum(Decimal(r["THANH_TIEN_BV"]) for r in lines)
    assert Decimal(x1["T_THUOC"]) == sum(Decimal(r["THANH_TIEN_BV"]) for r in tables["XML2"])
    assert Decimal(x1["T_BHTT"]) + Decimal(x1["T_BNCCT"]) + Decimal(x1["T_BNTT"]) == Decimal(
        x1["T_TONGCHI_BV"]
    )
    assert Decimal(x1["T_VTYT"]) > 0  # supplies


def test_line_counts_can_be_forced_for_the_benchmark() -> None:
    spec = samples.random_visit(random.Random(2), kind="inpatient", drugs=10, services=15, results=20)
    assert (len(spec.drugs), len(spec.services), len(spec.results)) == (10, 15, 20)
    assert spec.item_count == 45


def test_patients_have_consistent_identifiers_and_vietnamese_names() -> None:
    rng = random.Random(9)
    for _ in range(50):
        patient = samples.random_patient(rng)
        assert patient.personal_id is not None
        year = int(patient.birth[:4])
        assert not PersonalId(patient.personal_id).consistency_warnings(
            birth_year=year, sex="M" if patient.sex == 1 else "F"
        )
        if patient.card_code:
            parse_card_code(patient.card_code)
        assert patient.name.split()[0] in samples.FAMILY_NAMES


def test_rows_hold_every_catalogue_field_in_order() -> None:
    tables = samples.visit_tables(samples.random_visit(random.Random(5), kind="inpatient"), "79048")
    for name, rows in tables.items():
        assert list(rows[0]) == list(table(name).field_names)


def test_same_seed_same_file() -> None:
    assert samples.build_envelope("79048", samples.sample_visits(seed=3)) == samples.build_envelope(
        "79048", samples.sample_visits(seed=3)
    )


def test_write_envelope_streams_visits_from_a_generator() -> None:
    rng = random.Random(6)
    out = io.BytesIO()
    written = samples.write_envelope(out, "79048", (samples.random_visit(rng) for _ in range(5)), count=5)
    assert written == 5
    assert len([i for i in iter_visits(out.getvalue()) if isinstance(i, ParsedVisit)]) == 5


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        samples.random_visit(random.Random(1), kind="dental")
