"""Storing visits: every field kept, same file twice changes nothing, corrections keep the old version."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from soskdt.core.errors import DomainError
from soskdt.healthbook import loading
from soskdt.healthbook.fieldmap import as_qd130_text
from soskdt.healthbook.models import (
    ClinicalNote,
    DischargePaper,
    DrugLine,
    FollowUp,
    RawDocument,
    RecordSummary,
    Referral,
    Result,
    ServiceLine,
    Visit,
    VisitVersion,
)
from soskdt.healthbook.records import VisitInput, VisitStatus
from soskdt.healthbook.selectors import visit_as_sent, visit_versions
from soskdt.healthbook.services import record_visits
from soskdt.healthbook.tests.factories import make_facility, make_visit_input
from soskdt.registry.models import Facility

ITEM_MODELS = [
    DrugLine,
    ServiceLine,
    Result,
    ClinicalNote,
    DischargePaper,
    RecordSummary,
    Referral,
    FollowUp,
    RawDocument,
]
UTC = dt.UTC


def _counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in [Visit, VisitVersion, *ITEM_MODELS]}


def _same(sent: Any, stored: Any) -> bool:
    """Compare a value as sent with the value read back (lists come back ';'-joined, numbers exactly)."""
    if sent is None or stored is None:
        return sent is None and stored is None
    if (
        isinstance(sent, Decimal | int)
        and not isinstance(sent, bool)
        and isinstance(stored, Decimal | int | str)
    ):
        return Decimal(str(sent)) == Decimal(str(stored))
    if isinstance(sent, dt.datetime) and isinstance(stored, dt.datetime):
        return sent == stored
    if isinstance(sent, dt.datetime | dt.date) and isinstance(stored, str):
        return stored in (as_qd130_text(sent), sent.isoformat())
    return as_qd130_text(sent) == as_qd130_text(stored)


def _assert_rows_kept(sent: dict[str, Any] | None, stored: dict[str, Any] | None, where: str) -> None:
    sent = {k: v for k, v in (sent or {}).items() if v is not None and k != "MA_LK"}
    stored = {k: v for k, v in (stored or {}).items() if k != "MA_LK"}
    if where == "summary":
        sent.pop("MA_CSKCB", None)
    missing = sorted(k for k in sent if k not in stored)
    assert not missing, f"{where}: not stored: {missing}"
    different = {k: (sent[k], stored[k]) for k in sent if not _same(sent[k], stored[k])}
    assert not different, f"{where}: changed: {different}"


def _assert_visit_kept(sent: VisitInput, stored: VisitInput) -> None:
    _assert_rows_kept(sent.summary, stored.summary, "summary")
    for attr in ("drugs", "services", "results", "notes"):
        rows_sent, rows_stored = getattr(sent, attr), getattr(stored, attr)
        assert len(rows_sent) == len(rows_stored), attr
        for i, (a, b) in enumerate(zip(rows_sent, rows_stored, strict=True)):
            _assert_rows_kept(a, b, f"{attr}[{i}]")
    for attr in ("discharge_paper", "record_summary", "referral", "follow_up"):
        _assert_rows_kept(getattr(sent, attr), getattr(stored, attr), attr)
    assert stored.raw_documents == sent.raw_documents


@pytest.mark.django_db
def test_a_visit_with_its_lines_is_stored_with_every_field(facility: Facility) -> None:
    sent = make_visit_input(drugs=3, services=5, results=4, notes=2)

    [outcome] = record_visits(visits=[sent])

    assert outcome.status == VisitStatus.ACCEPTED
    assert (outcome.version, outcome.linked) == (1, False)
    visit = Visit.objects.get(pk=outcome.visit_id)
    assert visit.facility == facility
    assert (visit.facility_code, visit.ma_lk, visit.version) == ("79048", "LK000001", 1)
    assert visit.full_name == "Nguyễn Văn An"
    assert visit.personal_id == "079085001234"
    assert (visit.birth_raw, visit.birth_date, visit.birth_year) == (
        "198503150000",
        dt.date(1985, 3, 15),
        1985,
    )
    assert (visit.sex, visit.blood_group, visit.visit_type) == ("1", "O+", "03")
    assert visit.card_codes == "DN4797912345678"
    assert visit.insurance_number == "7912345678"
    assert (visit.card_valid_from, visit.card_valid_to) == ("20250101", "20251231")
    # 08:30 in Hồ Chí Minh City is 01:30 UTC.
    assert visit.admitted_at == dt.datetime(2025, 3, 10, 1, 30, tzinfo=UTC)
    assert visit.discharged_at == dt.datetime(2025, 3, 14, 3, 30, tzinfo=UTC)
    assert visit.visit_year == 2025
    assert (visit.main_icd, visit.secondary_icds, visit.secondary_icd_list) == (
        "J15.9",
        "I10;E11.9",
        ["I10", "E11.9"],
    )
    assert (visit.outcome, visit.discharge_type, visit.treatment_days) == (2, 1, 5)
    assert visit.advice == "Uống thuốc đủ liều\nTái khám sau 7 ngày"
    assert (visit.follow_up_dates, visit.follow_up_on) == ("20250321", dt.date(2025, 3, 21))
    assert visit.total_cost == Decimal("1650000.50")
    assert visit.weight_kg == "65.50"
    assert visit.received_at == dt.datetime(2025, 3, 15, 3, 0, tzinfo=UTC)
    assert visit.submission_ref == "sub-1"
    assert len(visit.content_hash) == 64
    assert visit.warnings == [{"code": "SAMPLE_WARNING", "severity": "warning", "table": "XML1"}]
    assert visit.raw_extras == {
        "STT": 1,
        "NGAY_TTOAN": "2025-03-14T11:00:00",
        "T_BHTT_GDV": "0",
        "NAM_QT": 2025,
        "THANG_QT": 3,
        "MA_TTDV": "7900012345",
    }

    drugs = list(visit.drugs.order_by("line_no"))
    assert [d.line_no for d in drugs] == [1, 2, 3]
    assert (drugs[0].drug_code, drugs[0].name, drugs[0].strength) == ("40.101", "Amoxicilin 250mg", "250mg")
    assert drugs[0].dose == "1 viên/lần * 2 lần/ngày * 5 ngày"
    assert (drugs[0].quantity, drugs[0].unit_price, drugs[0].amount) == (
        Decimal(2),
        Decimal("1250.5"),
        Decimal("2501.00"),
    )
    assert drugs[0].ordered_at == dt.datetime(2025, 3, 10, 2, 30, tzinfo=UTC)
    assert drugs[0].extra is None
    services = list(visit.services.order_by("line_no"))
    assert [s.category for s in services] == ["lab", "lab", "lab", "imaging", "functional"]
    assert services[3].name == "Chụp Xquang ngực thẳng"
    assert visit.results.count() == 4
    assert [n.line_no for n in visit.notes.order_by("line_no")] == [1, 2]
    assert visit.discharge_paper.rest_days == 5
    assert visit.discharge_paper.extra == {
        "MA_YTE": "BN000001",
        "MA_DINH_CHI_THAI": 0,
        "MA_TTDV": "7900012345",
        "MA_BS": "7900054321",
    }
    assert visit.record_summary.illness_course == "Sốt 5 ngày, ho đờm"
    assert visit.follow_up.appointment_at == dt.datetime(2025, 3, 21, 3, 30, tzinfo=UTC)
    assert not Referral.objects.exists()
    assert RawDocument.objects.get().payload == {
        "root": "CHI_TIEU_DU_LIEU_GIAY_NGHI_VIEC",
        "data": {"SO_CT": "123/GNV"},
    }


@pytest.mark.django_db
def test_every_field_sent_comes_back_when_the_visit_is_read_as_sent(facility: Facility) -> None:
    sent = make_visit_input(drugs=4, services=9, results=6, notes=3)
    sent.summary["A_FIELD_FROM_A_LATER_DECISION"] = "kept"
    sent.drugs[1]["MA_PP_CHEBIEN"] = "PP01;PP02"
    sent.services[0]["VET_THUONG_TP"] = 1
    sent.referral = {
        "MA_LK": sent.ma_lk,
        "GIAY_CHUYEN_TUYEN": "CT-1",
        "MA_NOI_DEN": "79001",
        "HO_TEN": "Nguyễn Văn An",
    }

    [outcome] = record_visits(visits=[sent])

    _assert_visit_kept(sent, visit_as_sent(visit_id=outcome.visit_id))


@pytest.mark.django_db
def test_the_same_visit_twice_changes_nothing(facility: Facility) -> None:
    [first] = record_visits(visits=[make_visit_input()])
    visit = Visit.objects.get()
    ids_before = {m.__name__: sorted(m.objects.values_list("pk", flat=True)) for m in ITEM_MODELS}
    counts_before = _counts()

    again = make_visit_input(submission_ref="sub-2")
    again.received_at = dt.datetime(2025, 3, 16, tzinfo=UTC)
    [second] = record_visits(visits=[again])

    assert second.status == VisitStatus.UNCHANGED
    assert (second.visit_id, second.version) == (first.visit_id, 1)
    assert _counts() == counts_before
    assert {m.__name__: sorted(m.objects.values_list("pk", flat=True)) for m in ITEM_MODELS} == ids_before
    unchanged = Visit.objects.get()
    assert (unchanged.updated_at, unchanged.submission_ref, unchanged.received_at) == (
        visit.updated_at,
        "sub-1",
        visit.received_at,
    )


@pytest.mark.django_db
def test_a_changed_visit_replaces_the_stored_one_and_keeps_the_previous_version(facility: Facility) -> None:
    original = make_visit_input(drugs=3, services=5, results=4)
    [first] = record_visits(visits=[original])
    created_at = Visit.objects.get().created_at

    corrected = make_visit_input(drugs=2, services=5, results=4, submission_ref="sub-2")
    corrected.summary["CHAN_DOAN_RV"] = "Viêm phổi thùy dưới phải"
    corrected.received_at = dt.datetime(2025, 3, 17, tzinfo=UTC)
    [second] = record_visits(visits=[corrected])

    assert second.status == VisitStatus.REPLACED
    assert (second.visit_id, second.version) == (first.visit_id, 2)
    visit = Visit.objects.get()
    assert (visit.version, visit.discharge_diagnosis, visit.submission_ref) == (
        2,
        "Viêm phổi thùy dưới phải",
        "sub-2",
    )
    assert visit.created_at == created_at
    assert visit.drugs.count() == 2
    assert Result.objects.filter(service_line__isnull=False).count() == 4
    assert set(Result.objects.values_list("service_line__visit_id", flat=True)) == {visit.pk}

    [previous] = visit_versions(visit_id=visit.pk)
    assert (previous.version, previous.submission_ref) == (1, "sub-1")
    assert previous.received_at == dt.datetime(2025, 3, 15, 3, 0, tzinfo=UTC)
    assert previous.content_hash != visit.content_hash
    assert previous.payload["summary"]["CHAN_DOAN_RV"] == "Viêm phổi do vi khuẩn; Tăng huyết áp"
    assert len(previous.payload["drugs"]) == 3
    assert previous.payload["drugs"][2]["TEN_THUOC"] == "Amoxicilin 750mg"
    assert previous.payload["summary"]["NGAY_VAO"] == "2025-03-10T08:30:00"
    assert Decimal(previous.payload["summary"]["T_TONGCHI_BV"]) == Decimal("1650000.50")
    assert len(previous.payload["results"]) == 4
    assert previous.payload["discharge_paper"]["SO_LUU_TRU"] == "LT-2025-0001"
    assert previous.payload["raw_documents"] == original.raw_documents


@pytest.mark.django_db
def test_each_correction_keeps_every_earlier_version(facility: Facility) -> None:
    for n, name in enumerate(["Nguyễn Văn An", "Nguyễn Văn Ân", "Nguyễn Văn Ẩn"], start=1):
        sent = make_visit_input(submission_ref=f"sub-{n}")
        sent.summary["HO_TEN"] = name
        record_visits(visits=[sent])

    visit = Visit.objects.get()
    assert (visit.version, visit.full_name) == (3, "Nguyễn Văn Ẩn")
    versions = list(visit_versions(visit_id=visit.pk))
    assert [(v.version, v.submission_ref, v.payload["summary"]["HO_TEN"]) for v in versions] == [
        (1, "sub-1", "Nguyễn Văn An"),
        (2, "sub-2", "Nguyễn Văn Ân"),
    ]


@pytest.mark.django_db
def test_a_visit_sent_twice_in_one_batch_is_applied_in_order(facility: Facility) -> None:
    first, second = make_visit_input(), make_visit_input(submission_ref="sub-2")
    second.summary["GHI_CHU"] = "Tái khám ngay nếu sốt lại"
    other = make_visit_input(ma_lk="LK000002")

    outcomes = record_visits(visits=[first, other, second, make_visit_input(submission_ref="sub-3")])

    assert [o.status for o in outcomes] == [
        VisitStatus.ACCEPTED,
        VisitStatus.ACCEPTED,
        VisitStatus.REPLACED,
        VisitStatus.REPLACED,
    ]
    assert [o.version for o in outcomes] == [1, 1, 2, 3]
    assert Visit.objects.get(ma_lk="LK000001").advice == "Uống thuốc đủ liều\nTái khám sau 7 ngày"
    assert Visit.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "failing_table", [Result, Visit], ids=["after-drugs-and-services", "after-every-line"]
)
def test_a_failure_in_the_middle_of_a_batch_leaves_nothing_written(
    monkeypatch: pytest.MonkeyPatch, failing_table: type[Any]
) -> None:
    make_facility()
    record_visits(visits=[make_visit_input(ma_lk="LK-KEEP")])
    before = _counts()
    real_insert = loading.insert_rows

    def insert_then_fail(table: str, *args: Any, **kwargs: Any) -> None:
        if table == failing_table._meta.db_table:
            written = DrugLine.objects.count() + ServiceLine.objects.count()
            assert written > before["DrugLine"] + before["ServiceLine"]  # earlier tables are written already
            raise RuntimeError("disk full")
        real_insert(table, *args, **kwargs)

    monkeypatch.setattr(loading, "insert_rows", insert_then_fail)
    replaced = make_visit_input(ma_lk="LK-KEEP")
    replaced.summary["HO_TEN"] = "Changed"
    with pytest.raises(RuntimeError, match="disk full"):
        record_visits(
            visits=[make_visit_input(ma_lk="LK-NEW-1"), replaced, make_visit_input(ma_lk="LK-NEW-2")]
        )

    assert _counts() == before
    assert not Visit.objects.filter(ma_lk__startswith="LK-NEW").exists()
    kept = Visit.objects.get(ma_lk="LK-KEEP")
    assert (kept.full_name, kept.version, kept.drugs.count()) == ("Nguyễn Văn An", 1, 3)

    monkeypatch.setattr(loading, "insert_rows", real_insert)
    outcomes = record_visits(visits=[make_visit_input(ma_lk="LK-NEW-1"), replaced])
    assert [o.status for o in outcomes] == [VisitStatus.ACCEPTED, VisitStatus.REPLACED]
    assert Visit.objects.get(ma_lk="LK-NEW-1").drugs.count() == 3


@pytest.mark.django_db
def test_a_batch_naming_an_unknown_facility_is_refused_before_anything_is_written(facility: Facility) -> None:
    with pytest.raises(DomainError) as refused:
        record_visits(visits=[make_visit_input(), make_visit_input(ma_lk="LK9", facility_code="01999")])

    assert refused.value.code == "VISIT_FACILITY_NOT_FOUND"
    assert "01999" in refused.value.message
    assert not Visit.objects.exists()


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_lines_of_a_visit_or_the_visits_of_a_batch(
    facility: Facility,
) -> None:
    def queries_for(prefix: str, visits: int, lines: int) -> int:
        batch = [
            make_visit_input(ma_lk=f"{prefix}{i}", drugs=lines, services=lines, results=lines, notes=lines)
            for i in range(visits)
        ]
        with CaptureQueriesContext(connection) as captured:
            record_visits(visits=batch)
        return len(captured)

    queries_for("W", visits=1, lines=1)  # SQLite: the first ids of a table also create its sequence row
    small = queries_for("A", visits=2, lines=1)
    assert queries_for("B", visits=2, lines=40) == small
    assert queries_for("C", visits=30, lines=5) == small
    assert small <= 25

    def replacing(prefix: str, visits: int, lines: int) -> int:
        batch = [
            make_visit_input(
                ma_lk=f"{prefix}{i}", drugs=lines, services=lines, results=lines, submission_ref="v2"
            )
            for i in range(visits)
        ]
        for v in batch:
            v.summary["HO_TEN"] = "Changed"
        with CaptureQueriesContext(connection) as captured:
            record_visits(visits=batch)
        return len(captured)

    assert replacing("A", visits=2, lines=1) == replacing("C", visits=30, lines=5)


@pytest.mark.django_db
def test_results_join_their_service_line_by_service_code(facility: Facility) -> None:
    sent = make_visit_input(services=4, results=0)
    lab = dict(sent.services[0])
    repeated = {**lab, "STT": 5, "NGAY_YL": lab["NGAY_YL"] + dt.timedelta(days=1)}  # type: ignore[operator]
    sent.services.append(repeated)
    sent.results = [
        {
            "STT": 1,
            "MA_DICH_VU": "23.0075.1494",
            "TEN_CHI_SO": "Glucose",
            "GIA_TRI": "5.4",
            "DON_VI_DO": "mmol/L",
            "NGAY_KQ": lab["NGAY_KQ"],
        },
        {"STT": 2, "MA_DICH_VU": "22.0120.1370", "TEN_CHI_SO": "WBC (ngày 1)", "NGAY_KQ": lab["NGAY_KQ"]},
        {
            "STT": 3,
            "MA_DICH_VU": "22.0120.1370",
            "TEN_CHI_SO": "WBC (ngày 2)",
            "NGAY_KQ": lab["NGAY_KQ"] + dt.timedelta(days=1),
        },  # type: ignore[operator]
        {"STT": 4, "MA_DICH_VU": "18.0119.0028", "MO_TA": "Bình thường", "KET_LUAN": "Không có tổn thương"},
        {"STT": 5, "MA_DICH_VU": "99.9999.9999", "TEN_CHI_SO": "Không có dịch vụ tương ứng"},
    ]

    [outcome] = record_visits(visits=[sent])

    lines = {s.line_no: s for s in ServiceLine.objects.filter(visit_id=outcome.visit_id)}
    results = {
        r.line_no: r for r in Result.objects.filter(visit_id=outcome.visit_id).select_related("service_line")
    }
    assert results[1].service_line == lines[2]
    assert (results[2].service_line, results[3].service_line) == (lines[1], lines[5])
    assert (results[4].service_line, results[4].category) == (lines[4], "imaging")
    assert (results[1].category, results[1].value, results[1].unit) == ("lab", "5.4", "mmol/L")
    assert (results[5].service_line, results[5].category) == (None, "")
    assert list(lines[1].results.order_by("line_no")) == [results[2]]


@pytest.mark.django_db
def test_missing_keys_and_empty_tables_are_accepted(facility: Facility) -> None:
    sent = VisitInput(
        facility_code="79048",
        ma_lk="LK-MIN",
        summary={"HO_TEN": "Trần Thị B"},
        drugs=[{"TEN_THUOC": "Paracetamol"}],
    )

    [outcome] = record_visits(visits=[sent])

    visit = Visit.objects.get(pk=outcome.visit_id)
    assert (visit.full_name, visit.admitted_at, visit.visit_year, visit.citizen_id) == (
        "Trần Thị B",
        None,
        None,
        None,
    )
    assert visit.received_at is not None
    drug = visit.drugs.get()
    assert (drug.line_no, drug.name, drug.quantity) == (1, "Paracetamol", None)
    assert record_visits(visits=[sent])[0].status == VisitStatus.UNCHANGED


@pytest.mark.django_db
def test_a_value_that_does_not_fit_its_column_is_kept_as_text_with_a_warning(facility: Facility) -> None:
    sent = make_visit_input(drugs=2, services=1, results=0, notes=0, documents=False)
    sent.drugs[1]["SO_LUONG"] = "mười"
    sent.drugs[1]["DUONG_DUNG"] = "uống sau ăn"  # longer than the 4-character code
    sent.drugs[1]["STT"] = "2a"
    sent.summary["SO_NGAY_DTRI"] = -3

    [outcome] = record_visits(visits=[sent])

    drug = DrugLine.objects.get(visit_id=outcome.visit_id, line_no=2)
    assert (drug.quantity, drug.route_code) == (None, None)
    assert drug.extra == {"SO_LUONG": "mười", "DUONG_DUNG": "uống sau ăn", "STT": "2a"}
    visit = Visit.objects.get()
    assert visit.treatment_days is None
    assert visit.raw_extras["SO_NGAY_DTRI"] == "-3"
    kept = {(w["table"], w.get("row"), w["field"]) for w in outcome.warnings}
    assert kept == {("XML2", 2, "SO_LUONG"), ("XML2", 2, "DUONG_DUNG"), ("XML1", 1, "SO_NGAY_DTRI")}
    assert all(w["code"] == "VISIT_VALUE_KEPT_AS_TEXT" for w in outcome.warnings)
    assert {w["code"] for w in visit.warnings} == {"SAMPLE_WARNING", "VISIT_VALUE_KEPT_AS_TEXT"}
    assert record_visits(visits=[sent])[0].status == VisitStatus.UNCHANGED


@pytest.mark.django_db
def test_values_of_a_looser_type_are_converted_to_their_column(facility: Facility) -> None:
    sent = make_visit_input(drugs=1, services=0, results=0, notes=0, documents=False)
    sent.summary.update(
        {"NGAY_VAO": "202503100830", "GIOI_TINH": "2", "KET_QUA_DTRI": Decimal("1"), "T_TONGCHI_BV": 12.5}
    )
    sent.drugs[0].update(
        {"MA_NHOM": "4", "SO_LUONG": "3.5", "NGAY_YL": dt.datetime(2025, 3, 10, 2, 0, tzinfo=UTC)}
    )

    record_visits(visits=[sent])

    visit = Visit.objects.get()
    assert (visit.admitted_at, visit.sex, visit.outcome) == (
        dt.datetime(2025, 3, 10, 1, 30, tzinfo=UTC),
        "2",
        1,
    )
    assert visit.total_cost == Decimal("12.5")
    drug = visit.drugs.get()
    assert (drug.cost_group, drug.quantity, drug.extra) == (4, Decimal("3.5"), None)
    assert drug.ordered_at == dt.datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_text_with_tabs_newlines_and_backslashes_is_stored_exactly(facility: Facility) -> None:
    awkward = "Dòng 1\tcột\nDòng 2\r\nC:\\thu muc\\N\\"
    sent = make_visit_input(drugs=1, services=0, results=0, notes=1, documents=False)
    sent.summary["GHI_CHU"] = awkward
    sent.drugs[0]["CACH_DUNG"] = "\\N"
    sent.notes[0]["DIEN_BIEN_LS"] = awkward
    sent.raw_documents = {"XML9": [{"text": awkward}]}
    sent.summary["NEW_FIELD"] = awkward

    record_visits(visits=[sent])

    visit = Visit.objects.get()
    assert visit.advice == awkward
    assert visit.raw_extras["NEW_FIELD"] == awkward
    assert visit.drugs.get().usage == "\\N"
    assert visit.notes.get().progress == awkward
    assert visit.raw_documents.get().payload == [{"text": awkward}]
    assert record_visits(visits=[sent])[0].status == VisitStatus.UNCHANGED


@pytest.mark.django_db
def test_birth_dates_known_only_to_the_year_are_kept_as_sent(facility: Facility) -> None:
    from soskdt.core.dates import PartialDate

    by_year, by_month = make_visit_input(ma_lk="LK-Y"), make_visit_input(ma_lk="LK-M")
    by_year.summary["NGAY_SINH"] = "196200000000"
    by_month.summary["NGAY_SINH"] = PartialDate(1962, 7)

    record_visits(visits=[by_year, by_month])

    assert Visit.objects.filter(birth_year=1962, birth_date__isnull=True).count() == 2
    assert set(Visit.objects.values_list("birth_raw", flat=True)) == {"196200000000", "196207000000"}


@pytest.mark.django_db
def test_deleting_a_visit_deletes_its_lines_and_versions(facility: Facility) -> None:
    record_visits(visits=[make_visit_input()])
    changed = make_visit_input()
    changed.summary["HO_TEN"] = "Changed"
    record_visits(visits=[changed])

    Visit.objects.get().delete()

    assert all(count == 0 for count in _counts().values())


@pytest.mark.django_db(transaction=True)
def test_a_failure_while_lines_stream_to_the_database_leaves_nothing_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from soskdt.healthbook import fieldmap

    make_facility()
    calls = 0
    real_render = fieldmap.RESULTS.render

    def render_then_fail(*args: Any, **kwargs: Any) -> str:
        nonlocal calls
        calls += 1
        if calls == 30:  # well inside the second visit's results
            raise ValueError("renderer bug")
        return real_render(*args, **kwargs)

    monkeypatch.setattr(fieldmap.RESULTS, "render", render_then_fail)
    with pytest.raises(ValueError, match="renderer bug"):
        record_visits(visits=[make_visit_input(ma_lk=f"LK{i}", results=20) for i in range(3)])

    assert all(count == 0 for count in _counts().values())


@pytest.mark.django_db
def test_a_mixed_batch_sent_again_is_recognised_visit_by_visit(facility: Facility) -> None:
    def batch() -> list[VisitInput]:
        return [
            make_visit_input(ma_lk="LK-FULL"),
            make_visit_input(ma_lk="LK-BARE", drugs=0, services=0, results=0, notes=0, documents=False),
            make_visit_input(ma_lk="LK-DRUGS", drugs=2, services=0, results=0, notes=0, documents=False),
            VisitInput(facility_code="79048", ma_lk="LK-EMPTY"),
        ]

    assert {o.status for o in record_visits(visits=batch())} == {VisitStatus.ACCEPTED}
    assert {o.status for o in record_visits(visits=batch())} == {VisitStatus.UNCHANGED}
    assert [o.status for o in record_visits(visits=list(reversed(batch())))] == [VisitStatus.UNCHANGED] * 4
