"""The FHIR R4 (IPS-shaped) document Bundle: valid for fhir.resources, complete, stable, within the scope."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from soskdt import testing
from soskdt.healthbook.models import DrugLine, Result, ServiceLine, Visit
from soskdt.healthbook.scope import Scope
from soskdt.identity.models import User
from soskdt.registry.models import InsuranceCard
from soskdt.sharing import fhir
from soskdt.sharing.tests.test_summary_support import (
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

# Today (the card of the ``citizen`` persona is valid this year), to the second.
NOW = timezone.now().replace(microsecond=0)


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def assert_valid_document(bundle: dict[str, Any]) -> None:
    """Valid for the R4B models, Composition first, unique fullUrls, every reference inside the bundle."""
    parsed = fhir.validate(bundle)
    assert parsed.type == "document"
    assert bundle["entry"][0]["resource"]["resourceType"] == "Composition"
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    assert all(u.startswith("urn:uuid:") for u in urls)
    missing = set(fhir.references(bundle)) - set(urls)
    assert not missing, missing
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"


def _book(citizen: User) -> list[Visit]:
    person = citizen_of(citizen)
    visits = [
        record(
            person,
            admitted_at=local(2024, 11, 5),
            facility="79001",
            icds=("I10", "E11.9"),
            texts=("Tăng huyết áp", "Đái tháo đường typ 2"),
            drugs=[
                drug("Amlodipin 5mg", strength="5mg", dose="1 viên/lần * 1 lần/ngày * 30 ngày", quantity="30")
            ],
            results=[lab("GLU", "Glucose", "8.2", "mmol/L"), lab("HBSAG", "HBsAg", "Âm tính", "")],
            follow_up_at=local(2025, 12, 1),
        ),
        record(
            person,
            admitted_at=local(2025, 3, 10),
            visit_type="03",
            days=4,
            icds=("K35.8",),
            drugs=[drug("Ceftriaxon 1g", strength="1g", dose="1 lọ/lần * 2 lần/ngày * 1 ngày", quantity="2")],
            results=[
                report("imaging", "Siêu âm ổ bụng", "Viêm ruột thừa", service="18.0001.0001"),
                report("functional", "Điện tim thường", "Nhịp xoang", service="21.0014.1778"),
            ],
            procedures=[("surgery", "Phẫu thuật nội soi cắt ruột thừa"), ("procedure", "Thay băng vết mổ")],
            referral_to="79002",
        ),
        record(
            person,
            admitted_at=local(2025, 6, 10),
            icds=("B20", "I10"),
            drugs=[drug("Tenofovir + Lamivudin + Dolutegravir", dose="* 30 ngày")],
            results=[lab("HIVVL", "Tải lượng vi rút HIV", "<50", "copies/mL", service="24.0301.1720")],
        ),
    ]
    open_book(citizen)
    return visits


def test_the_bundle_validates_and_holds_every_visit_and_item(citizen: User) -> None:
    visits = _book(citizen)
    person = citizen_of(citizen)

    bundle = fhir.build_bundle(citizen_id=person.pk, scope=Scope.full(), generated_at=NOW)

    assert_valid_document(bundle)
    kinds = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    ids = [v.pk for v in visits]
    assert kinds["Composition"] == 1 and kinds["Patient"] == 1
    assert kinds["Encounter"] == len(visits)
    assert kinds["Condition"] == 5  # I10, E11.9 / K35.8 / B20, I10
    assert kinds["MedicationStatement"] == DrugLine.objects.filter(visit_id__in=ids).count() == 3
    assert kinds["Observation"] == Result.objects.filter(visit_id__in=ids, category="lab").count() == 3
    assert kinds["DiagnosticReport"] == 2
    assert (
        kinds["Procedure"]
        == ServiceLine.objects.filter(visit_id__in=ids, category__in=("surgery", "procedure")).count()
        == 2
    )
    # The two facilities of the visits, BHXH (the card's payor) and SoSKDT (the author).
    assert kinds["Organization"] == 4 and kinds["Coverage"] == 1


def test_the_patient_is_identified_by_the_personal_id(citizen: User) -> None:
    _book(citizen)
    person = citizen_of(citizen)

    (patient,) = resources(
        fhir.build_bundle(citizen_id=person.pk, scope=Scope.full(), generated_at=NOW), "Patient"
    )

    assert patient["identifier"][0] == {
        "use": "official",
        "type": {
            "coding": [
                {"system": fhir.V2_0203, "code": "NI", "display": "National unique individual identifier"}
            ]
        },
        "system": "https://soskdt.vn/fhir/sid/cccd",
        "value": person.personal_id,
    }
    assert patient["name"][0]["text"] == person.full_name
    assert patient["name"][0]["family"] == person.full_name.split()[0]
    assert patient["gender"] == {"1": "male", "2": "female"}[person.sex]
    assert patient["birthDate"] == person.birth_date.isoformat()


def test_the_card_is_a_coverage_paid_by_bhxh(citizen: User) -> None:
    _book(citizen)
    person = citizen_of(citizen)
    card = InsuranceCard.objects.filter(holder_personal_id=person.personal_id).latest("valid_to")
    day = timezone.localtime(NOW).date()
    at = (
        NOW
        if card.is_valid_on(day)
        else timezone.make_aware(dt.datetime.combine(card.valid_from, dt.time(12)))
    )

    bundle = fhir.build_bundle(citizen_id=person.pk, scope=Scope.full(), generated_at=at)

    (coverage,) = resources(bundle, "Coverage")
    assert coverage["identifier"] == [{"system": fhir.SID_BHYT_CARD, "value": card.code}]
    assert coverage["subscriberId"] == card.social_insurance_number
    assert coverage["period"] == {"start": card.valid_from.isoformat(), "end": card.valid_to.isoformat()}
    payor = next(e for e in bundle["entry"] if e["fullUrl"] == coverage["payor"][0]["reference"])
    assert "BHXH" in payor["resource"]["alias"]
    assert {c["value"] for c in coverage["class"]} == {card.group, str(card.benefit_level)}


def test_no_card_no_coverage(db: None) -> None:
    user = testing.make_citizen_account(assurance_level=2, birth_year=1970)
    record(citizen_of(user), admitted_at=local(2025, 1, 1))
    open_book(user)
    bundle = fhir.build_bundle(citizen_id=citizen_of(user).pk, scope=Scope.full(), generated_at=NOW)
    assert_valid_document(bundle)
    assert resources(bundle, "Coverage") == []


def test_resources_carry_codes_values_and_flags(citizen: User) -> None:
    _book(citizen)
    bundle = fhir.build_bundle(citizen_id=citizen_of(citizen).pk, scope=Scope.full(), generated_at=NOW)

    conditions = resources(bundle, "Condition")
    hypertension = next(c for c in conditions if c["code"]["coding"][0]["code"] == "I10")
    assert hypertension["code"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-10"
    assert hypertension["clinicalStatus"]["coding"][0]["code"] == "active"
    glucose = next(o for o in resources(bundle, "Observation") if o["code"]["text"] == "Glucose")
    assert glucose["valueQuantity"] == {"value": 8.2, "unit": "mmol/L"}
    assert glucose["interpretation"][0]["coding"][0]["code"] == "H"
    assert glucose["referenceRange"][0]["low"]["value"] == 3.9
    hbsag = next(o for o in resources(bundle, "Observation") if o["code"]["text"] == "HBsAg")
    assert hbsag["valueString"] == "Âm tính" and "interpretation" not in hbsag
    reports = {r["code"]["text"]: r for r in resources(bundle, "DiagnosticReport")}
    assert reports["Siêu âm ổ bụng"]["conclusion"] == "Viêm ruột thừa"
    assert reports["Siêu âm ổ bụng"]["category"][0]["coding"][0]["code"] == "RAD"
    surgery = next(p for p in resources(bundle, "Procedure") if "ruột thừa" in p["code"]["text"])
    assert {"system": fhir.ICD9CM, "code": "47.01"} in surgery["code"]["coding"]
    encounters = resources(bundle, "Encounter")
    assert sorted(e["class"]["code"] for e in encounters) == ["AMB", "AMB", "IMP"]
    statement = next(
        m
        for m in resources(bundle, "MedicationStatement")
        if "Amlodipin" in m["medicationCodeableConcept"]["text"]
    )
    assert statement["effectivePeriod"] == {"start": "2024-11-05", "end": "2024-12-04"}
    assert statement["status"] == "completed"


def test_the_composition_follows_the_ips_sections(citizen: User) -> None:
    _book(citizen)
    bundle = fhir.build_bundle(citizen_id=citizen_of(citizen).pk, scope=Scope.full(), generated_at=NOW)
    composition = bundle["entry"][0]["resource"]

    assert composition["type"]["coding"][0]["code"] == "60591-5"
    codes = {s["code"]["coding"][0]["code"]: s for s in composition["section"]}
    assert set(codes) == {"11450-4", "48765-2", "10160-0", "30954-2", "47519-4", "46240-8"}
    assert len(codes["11450-4"]["entry"]) == len(resources(bundle, "Condition"))
    assert len(codes["10160-0"]["entry"]) == len(resources(bundle, "MedicationStatement"))
    assert len(codes["30954-2"]["entry"]) == len(resources(bundle, "Observation")) + len(
        resources(bundle, "DiagnosticReport")
    )
    assert codes["48765-2"]["emptyReason"]["coding"][0]["code"] == "unavailable"
    assert composition["subject"]["reference"] == bundle["entry"][1]["fullUrl"]


def test_hiv_items_are_left_out_unless_the_scope_includes_them(citizen: User) -> None:
    _book(citizen)
    person = citizen_of(citizen)

    without = fhir.build_bundle(citizen_id=person.pk, scope=Scope(), generated_at=NOW)
    full = fhir.build_bundle(citizen_id=person.pk, scope=Scope.full(), generated_at=NOW)

    assert_valid_document(without)
    text = fhir.dumps(without)
    for marker in ("B20", "Tenofovir", "HIV"):
        assert marker not in text
        assert marker in fhir.dumps(full)
    # The HIV-related visit is left out whole, as on the book pages.
    assert len(resources(without, "Encounter")) == len(resources(full, "Encounter")) - 1


def test_years_and_categories_limit_the_bundle(citizen: User) -> None:
    _book(citizen)
    person = citizen_of(citizen)

    only_2024 = fhir.build_bundle(
        citizen_id=person.pk, scope=Scope(years=frozenset({2024})), generated_at=NOW
    )
    assert len(resources(only_2024, "Encounter")) == 1

    labs_only = fhir.build_bundle(
        citizen_id=person.pk, scope=Scope(categories=frozenset({"lab"})), generated_at=NOW
    )
    assert_valid_document(labs_only)
    kinds = Counter(e["resource"]["resourceType"] for e in labs_only["entry"])
    assert (
        kinds["Condition"]
        == kinds["MedicationStatement"]
        == kinds["Procedure"]
        == kinds["DiagnosticReport"]
        == 0
    )
    assert kinds["Observation"] == 2  # HIV viral load withheld
    sections = {s["code"]["coding"][0]["code"]: s for s in labs_only["entry"][0]["resource"]["section"]}
    assert sections["10160-0"]["emptyReason"]["coding"][0]["code"] == "withheld"


def test_exports_are_stable(citizen: User) -> None:
    _book(citizen)
    person = citizen_of(citizen)
    first = fhir.build_bundle(citizen_id=person.pk, scope=Scope.full(), generated_at=NOW)
    second = fhir.build_bundle(citizen_id=person.pk, scope=Scope.full(), generated_at=NOW)
    assert fhir.dumps(first) == fhir.dumps(second)
    later = fhir.build_bundle(
        citizen_id=person.pk, scope=Scope.full(), generated_at=NOW + dt.timedelta(hours=1)
    )
    assert [e["fullUrl"] for e in later["entry"][1:]] == [e["fullUrl"] for e in first["entry"][1:]]


def test_the_bundle_is_built_with_a_fixed_number_of_queries(citizen: User) -> None:
    person = citizen_of(citizen)
    _book(citizen)
    with CaptureQueriesContext(connection) as few:
        fhir.build_bundle(citizen_id=person.pk, scope=Scope.full(), generated_at=NOW)
    for i in range(8):
        record(
            person,
            admitted_at=local(2025, 1, 1 + i),
            facility=("79048", "79001")[i % 2],
            drugs=[drug("Paracetamol")],
            results=[lab("GLU", "Glucose", "5", "mmol/L")],
            procedures=[("procedure", "Thay băng")],
        )
    sync(citizen)
    with CaptureQueriesContext(connection) as many:
        bundle = fhir.build_bundle(citizen_id=person.pk, scope=Scope.full(), generated_at=NOW)
    assert len(resources(bundle, "Encounter")) == 11
    assert len(many) == len(few) <= 8
