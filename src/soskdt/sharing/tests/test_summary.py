"""The clinical summary: diagnoses across facilities, drug overlaps, lab trends, appointments, scope, queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from soskdt.healthbook.models import Visit
from soskdt.healthbook.scope import Scope
from soskdt.identity.models import User
from soskdt.sharing.summary import (
    MAX_QUERIES,
    clinical_summary,
    days_supplied,
    is_chronic_icd,
    normalise_ingredient,
)
from soskdt.sharing.tests.test_summary_support import (
    any_value,
    citizen_of,
    drug,
    lab,
    local,
    open_book,
    record,
    report,
    sync,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 30)
HOSPITAL, STATION, POLYCLINIC = "79048", "79001", "79002"


def summary_of(user: User, scope: Scope | None = None, since: dt.datetime | None = None):  # type: ignore[no-untyped-def]
    return clinical_summary(
        citizen_id=citizen_of(user).pk, scope=scope or Scope.full(), since=since, today=TODAY
    )


# --- diagnoses ------------------------------------------------------------------------------------------


def test_diagnoses_are_counted_across_facilities_with_the_last_date(citizen: User) -> None:
    person = citizen_of(citizen)
    record(person, admitted_at=local(2024, 1, 5), facility=STATION, icds=("I10", "E11.9"))
    record(person, admitted_at=local(2025, 3, 2), facility=HOSPITAL, icds=("J18.9", "I10"))
    last = record(person, admitted_at=local(2025, 5, 20), facility=POLYCLINIC, icds=("I10",))
    record(person, admitted_at=local(2025, 4, 1), facility=POLYCLINIC, icds=("K29.7", "K29.7"))
    open_book(citizen)

    summary = summary_of(citizen)

    hypertension = any_value(summary.diagnoses, code="I10")
    assert hypertension.count == 3
    assert hypertension.last_date == dt.date(2025, 5, 20)
    assert hypertension.first_date == dt.date(2024, 1, 5)
    assert hypertension.last_visit.id == last.pk
    assert hypertension.facilities == ("Bệnh viện 79001", "Bệnh viện 79048", "Bệnh viện 79002")
    assert hypertension.as_main == 2
    diabetes = any_value(summary.diagnoses, code="E11.9")
    assert diabetes.count == 1 and diabetes.chronic and diabetes.chronic_or_recurring
    gastritis = any_value(summary.diagnoses, code="K29.7")
    assert gastritis.count == 1  # twice in one visit counts once
    pneumonia = any_value(summary.diagnoses, code="J18.9")
    assert not pneumonia.chronic_or_recurring
    chronic_codes = [d.code for d in summary.chronic_diagnoses]
    assert chronic_codes[0] == "I10" and "E11.9" in chronic_codes and "J18.9" not in chronic_codes


def test_the_chronic_list_works_by_three_character_category() -> None:
    assert is_chronic_icd("I10") and is_chronic_icd("E11.9") and is_chronic_icd("j45.0")
    assert is_chronic_icd("N18.3") and is_chronic_icd("I25.1") and is_chronic_icd("B18.1")
    assert not is_chronic_icd("J18.9") and not is_chronic_icd("I16") and not is_chronic_icd("")


# --- drugs ---------------------------------------------------------------------------------------------


def test_the_same_ingredient_from_two_facilities_in_overlapping_periods_is_warned(citizen: User) -> None:
    person = citizen_of(citizen)
    record(
        person,
        admitted_at=local(2025, 6, 1),
        facility=STATION,
        drugs=[drug("Amlodipin 5mg", strength="5mg", dose="1 viên/lần * 1 lần/ngày * 30 ngày")],
    )
    record(
        person,
        admitted_at=local(2025, 6, 20),
        facility=HOSPITAL,
        drugs=[drug("AMLODIPIN", strength="10mg", dose="1 viên/lần * 1 lần/ngày * 7 ngày")],
    )
    open_book(citizen)

    summary = summary_of(citizen)

    (warning,) = summary.overlaps
    assert warning.ingredient == "amlodipin"
    assert set(warning.facilities) == {"Bệnh viện 79001", "Bệnh viện 79048"}
    assert len(warning.drugs) == 2
    assert warning.start == dt.date(2025, 6, 1) and warning.end == dt.date(2025, 6, 30)
    first = any_value(summary.drugs, start=dt.date(2025, 6, 1))
    assert first.days == 30 and first.days_source == "dose" and first.end == dt.date(2025, 6, 30)


def test_the_same_facility_or_periods_that_do_not_overlap_give_no_warning(citizen: User) -> None:
    person = citizen_of(citizen)
    # Same facility, overlapping: a dose change, not a duplicate from two prescribers.
    record(
        person,
        admitted_at=local(2025, 6, 1),
        facility=STATION,
        drugs=[drug("Metformin 850mg", dose="* 30 ngày")],
    )
    record(
        person,
        admitted_at=local(2025, 6, 10),
        facility=STATION,
        drugs=[drug("Metformin 500mg", dose="* 30 ngày")],
    )
    # Two facilities, one after the other: 5 days from 1 April end on 5 April.
    record(
        person,
        admitted_at=local(2025, 4, 1),
        facility=STATION,
        drugs=[drug("Losartan 50mg", dose="* 5 ngày")],
    )
    record(
        person, admitted_at=local(2025, 4, 6), facility=HOSPITAL, drugs=[drug("Losartan", dose="* 5 ngày")]
    )
    open_book(citizen)

    summary = summary_of(citizen)

    assert summary.overlaps == []
    assert {d.ingredient for d in summary.drugs} == {"metformin", "losartan"}


def test_only_drugs_of_the_last_90_days_are_listed(citizen: User) -> None:
    person = citizen_of(citizen)
    record(person, admitted_at=local(2025, 4, 1), drugs=[drug("Paracetamol 500mg")])  # day 91 before TODAY
    record(person, admitted_at=local(2025, 4, 2), drugs=[drug("Omeprazol 20mg")])  # day 90
    open_book(citizen)

    assert [d.ingredient for d in summary_of(citizen).drugs] == ["omeprazol"]


def test_days_supplied_follow_the_dose_then_the_quantity_then_the_stay() -> None:
    from decimal import Decimal

    start = dt.date(2025, 6, 1)
    common = {"visit_type": "01", "admitted": start, "discharged": start, "start": start, "treatment_days": 0}
    assert days_supplied(dose="1 viên/lần * 2 lần/ngày * 14 ngày", quantity=Decimal(28), **common) == (
        14,
        "dose",
    )
    assert days_supplied(dose="1 viên/lần * 2 lần/ngày", quantity=Decimal(21), **common) == (11, "quantity")
    stay = {**common, "visit_type": "03", "discharged": dt.date(2025, 6, 5)}
    assert days_supplied(dose="Tiêm tĩnh mạch", quantity=Decimal(2), **stay) == (5, "stay")
    assert days_supplied(dose="", quantity=None, **common) == (1, "default")


def test_ingredients_are_normalised_without_their_strength() -> None:
    assert normalise_ingredient("Amlodipin 5mg", "5mg") == "amlodipin"
    assert normalise_ingredient("AMLODIPIN 10 mg") == "amlodipin"
    assert normalise_ingredient("Natri clorid 0,9% 500ml", "0,9% 500ml") == "natri clorid"
    assert normalise_ingredient("Vitamin B1 + B6 + B12", "100mg + 200mg + 200mcg") == "vitamin b1 + b6 + b12"
    # NFC: a decomposed "ê" equals the composed one.
    assert normalise_ingredient("Vitamin E\u0302") == normalise_ingredient("Vitamin Ê")


# --- results -------------------------------------------------------------------------------------------


def test_latest_lab_values_carry_flags_and_the_trend_of_repeated_tests(citizen: User) -> None:
    person = citizen_of(citizen)
    record(person, admitted_at=local(2025, 1, 10), results=[lab("GLU", "Glucose", "6.0", "mmol/L")])
    record(person, admitted_at=local(2025, 3, 10), results=[lab("GLU", "Glucose", "7.5", "mmol/L")])
    latest = record(
        person,
        admitted_at=local(2025, 5, 10),
        facility=POLYCLINIC,
        results=[
            lab("GLU", "Glucose", "8.2", "mmol/L"),
            lab("CRE", "Creatinin", "90", "µmol/L", service="23.0020.1494"),
        ],
    )
    record(
        person,
        admitted_at=local(2025, 6, 1),
        results=[lab("CRE", "Creatinin", "80", "µmol/L", service="23.0020.1494")],
    )
    open_book(citizen)

    labs = summary_of(citizen).labs

    glucose = any_value(labs, key="GLU")
    assert glucose.value == "8.2" and glucose.flag == "high" and glucose.reference == "3,9 – 6,4"
    assert glucose.trend == "up" and glucose.trend_symbol == "↑"
    assert [p.value for p in glucose.history] == ["6.0", "7.5", "8.2"]
    assert glucose.source.id == latest.pk and glucose.source.facility_code == POLYCLINIC
    creatinine = any_value(labs, key="CRE")
    assert creatinine.value == "80" and creatinine.flag is None and creatinine.trend == "down"
    assert labs[0].key == "GLU"  # flagged values first


def test_a_single_or_text_result_has_no_trend(citizen: User) -> None:
    person = citizen_of(citizen)
    record(person, admitted_at=local(2025, 2, 1), results=[lab("HBSAG", "HBsAg", "Âm tính", "")])
    record(person, admitted_at=local(2025, 3, 1), results=[lab("HBSAG", "HBsAg", "Âm tính", "")])
    record(person, admitted_at=local(2025, 3, 1), results=[lab("ALT", "ALT", "35", "U/L")])
    open_book(citizen)

    labs = summary_of(citizen).labs
    assert any_value(labs, key="HBSAG").trend is None
    assert any_value(labs, key="ALT").trend is None and any_value(labs, key="ALT").flag is None


def test_imaging_and_functional_conclusions_and_procedures_are_listed_newest_first(citizen: User) -> None:
    person = citizen_of(citizen)
    record(person, admitted_at=local(2024, 5, 1), results=[report("imaging", "X-quang ngực", "Bình thường")])
    ecg = record(
        person,
        admitted_at=local(2025, 2, 1),
        results=[report("functional", "Điện tim thường", "Nhịp xoang", service="21.0014.1778")],
    )
    operation = record(
        person,
        admitted_at=local(2025, 3, 1),
        visit_type="03",
        days=4,
        procedures=[("procedure", "Thay băng vết mổ"), ("surgery", "Phẫu thuật nội soi cắt ruột thừa")],
    )
    open_book(citizen)

    summary = summary_of(citizen)

    assert [r.conclusion for r in summary.reports] == ["Nhịp xoang", "Bình thường"]
    assert summary.reports[0].category == "functional" and summary.reports[0].source.id == ecg.pk
    assert [p.category for p in summary.procedures] == ["surgery", "procedure"]
    assert (
        summary.procedures[0].procedure_codes == "47.01" and summary.procedures[0].source.id == operation.pk
    )
    assert summary.procedures_total == 2


# --- appointments and new visits -------------------------------------------------------------------------


def test_only_follow_ups_from_today_on_are_pending(citizen: User) -> None:
    person = citizen_of(citizen)
    record(person, admitted_at=local(2025, 6, 1), follow_up_at=local(2025, 6, 29, 8))  # yesterday
    today = record(person, admitted_at=local(2025, 6, 2), follow_up_at=local(2025, 6, 30, 14))
    later = record(person, admitted_at=local(2025, 6, 3), follow_up_at=local(2025, 7, 15, 8))
    open_book(citizen)

    follow_ups = summary_of(citizen).follow_ups

    assert [(f.date, f.source.id) for f in follow_ups] == [
        (dt.date(2025, 6, 30), today.pk),
        (dt.date(2025, 7, 15), later.pk),
    ]
    assert all(f.from_slip for f in follow_ups)


def test_a_referral_is_pending_until_a_visit_at_its_destination(citizen: User) -> None:
    person = citizen_of(citizen)
    followed = record(person, admitted_at=local(2025, 3, 1), facility=STATION, referral_to=HOSPITAL)
    record(person, admitted_at=local(2025, 3, 3), facility=HOSPITAL)
    pending = record(person, admitted_at=local(2025, 6, 1), facility=STATION, referral_to=POLYCLINIC)
    open_book(citizen)

    referrals = summary_of(citizen).referrals

    assert [r.source.id for r in referrals] == [pending.pk]
    assert referrals[0].to_facility_code == POLYCLINIC and referrals[0].to_facility_name == "Bệnh viện 79002"
    assert followed.pk not in [r.source.id for r in referrals]


def test_new_since_the_last_view_takes_visits_received_or_linked_after_it(citizen: User) -> None:
    person = citizen_of(citizen)
    old = record(person, admitted_at=local(2025, 1, 1))
    boundary = record(person, admitted_at=local(2025, 2, 1))
    new = record(person, admitted_at=local(2025, 3, 1))
    open_book(citizen)
    since = timezone.now() - dt.timedelta(hours=1)
    Visit.objects.filter(pk=old.pk).update(
        received_at=since - dt.timedelta(days=3), linked_at=since - dt.timedelta(days=2)
    )
    Visit.objects.filter(pk=boundary.pk).update(received_at=since - dt.timedelta(days=3), linked_at=since)
    Visit.objects.filter(pk=new.pk).update(
        received_at=since - dt.timedelta(days=3), linked_at=since + dt.timedelta(seconds=1)
    )

    summary = summary_of(citizen, since=since)

    assert [n.source.id for n in summary.new_visits] == [new.pk]
    assert summary_of(citizen, since=None).new_visits == []
    assert summary_of(citizen, since=None).first_view


def test_visits_not_yet_synced_into_the_book_are_left_out(citizen: User) -> None:
    person = citizen_of(citizen)
    record(person, admitted_at=local(2025, 1, 1))
    open_book(citizen)
    record(person, admitted_at=local(2025, 2, 1), icds=("E78.5",))

    assert summary_of(citizen).visits == 1
    sync(citizen)
    assert summary_of(citizen).visits == 2


# --- scope ----------------------------------------------------------------------------------------------


def _hiv_book(citizen: User) -> None:
    person = citizen_of(citizen)
    record(
        person,
        admitted_at=local(2025, 6, 10),
        icds=("B20", "I10"),
        drugs=[
            drug("Tenofovir + Lamivudin + Dolutegravir", dose="* 30 ngày"),
            drug("Amlodipin 5mg", dose="* 30 ngày"),
        ],
        results=[
            lab("HIVVL", "Tải lượng vi rút HIV", "<50", "copies/mL", service="24.0301.1720"),
            lab("GLU", "Glucose", "5.0", "mmol/L"),
        ],
        follow_up_at=local(2025, 7, 10),
    )
    record(person, admitted_at=local(2023, 6, 10), icds=("J45.9",), results=[lab("ALT", "ALT", "20", "U/L")])
    open_book(citizen)


def test_hiv_items_are_hidden_unless_the_scope_includes_them(citizen: User) -> None:
    _hiv_book(citizen)
    hidden = summary_of(citizen, Scope())
    shown = summary_of(citizen, Scope.full())

    assert "B20" not in [d.code for d in hidden.diagnoses] and "B20" in [d.code for d in shown.diagnoses]
    # The whole HIV-related visit is left out, as on the book pages (the safer reading of DOMAIN.md §6):
    # nothing in the summary may link to a visit the clinician cannot open.
    assert hidden.drugs == [] and len(shown.drugs) == 2
    assert [lab.key for lab in hidden.labs] == ["ALT"]
    assert "HIVVL" in [lab.key for lab in shown.labs]
    assert hidden.follow_ups == [] and shown.follow_ups[0].diagnosis != ""


def test_years_and_categories_of_the_scope_limit_every_section(citizen: User) -> None:
    _hiv_book(citizen)

    only_2023 = summary_of(citizen, Scope(years=frozenset({2023})))
    assert only_2023.visits == 1 and [d.code for d in only_2023.diagnoses] == ["J45.9"]
    assert [lab.key for lab in only_2023.labs] == ["ALT"] and only_2023.drugs == []

    labs_only = summary_of(citizen, Scope(categories=frozenset({"lab"})))
    assert labs_only.diagnoses == [] and labs_only.drugs == [] and labs_only.follow_ups == []
    assert {lab.key for lab in labs_only.labs} == {"ALT"}  # GLU came with the HIV visit

    labs_with_hiv = summary_of(citizen, Scope(categories=frozenset({"lab"}), include_hiv=True))
    assert {lab.key for lab in labs_with_hiv.labs} == {"GLU", "ALT", "HIVVL"}


# --- queries and the page -----------------------------------------------------------------------------


def test_the_summary_reads_with_a_fixed_number_of_queries(citizen: User) -> None:
    person = citizen_of(citizen)

    def add(n: int, start: int) -> None:
        for i in range(n):
            record(
                person,
                admitted_at=local(2025, 5, 1 + start + i),
                facility=(HOSPITAL, STATION)[i % 2],
                icds=("I10", "E11.9"),
                drugs=[drug("Amlodipin 5mg", dose="* 30 ngày")],
                results=[
                    lab("GLU", "Glucose", f"{6 + i / 10:.1f}", "mmol/L"),
                    report("imaging", "X-quang", "Bình thường"),
                ],
                procedures=[("procedure", "Thay băng")],
                follow_up_at=local(2025, 7, 1),
                referral_to=POLYCLINIC,
            )

    add(2, 0)
    open_book(citizen)
    with CaptureQueriesContext(connection) as few:
        summary_of(citizen, since=timezone.now() - dt.timedelta(days=1))
    add(10, 5)
    sync(citizen)
    with CaptureQueriesContext(connection) as many:
        big = summary_of(citizen, since=timezone.now() - dt.timedelta(days=1))

    assert big.visits == 12 and big.overlaps
    assert len(many) == len(few) <= MAX_QUERIES


def test_the_partial_renders_every_section_with_links_to_the_visits(citizen: User) -> None:
    _hiv_book(citizen)
    person = citizen_of(citizen)
    record(
        person,
        admitted_at=local(2025, 6, 20),
        facility=STATION,
        drugs=[drug("Amlodipin 10mg", dose="* 30 ngày")],
    )
    sync(citizen)
    summary = summary_of(citizen, since=timezone.now() - dt.timedelta(days=1))

    html = render_to_string(
        "sharing/_summary.html",
        {"summary": summary, "visit_url_name": "healthbook:visit", "visit_url_arg": person.personal_id},
    )

    for heading in (
        "Bệnh mạn tính, tái diễn",
        "Thuốc 90 ngày gần đây",
        "Cảnh báo trùng hoạt chất",
        "Xét nghiệm gần nhất",
        "Chẩn đoán hình ảnh, thăm dò chức năng gần đây",
        "Phẫu thuật, thủ thuật",
        "Lịch hẹn khám lại, chuyển tuyến",
        "Mới từ lần xem trước",
    ):
        assert heading in html
    visit = Visit.objects.filter(citizen=person).order_by("-admitted_at").first()
    assert visit is not None
    assert f"/{visit.pk}/" in html
    assert 'role="alert"' in html
