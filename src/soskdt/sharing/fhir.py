"""FHIR R4 export of a book: a document Bundle shaped like the International Patient Summary (IPS).

``build_bundle`` turns one citizen's visits within a ``Scope`` into plain JSON-ready dicts: Composition
first (IPS sections), then Patient, Coverage (the BHYT card), Organizations (facilities, BHXH, SoSKDT),
Encounters (one per visit), Conditions, MedicationStatements, Observations and DiagnosticReports
(results), Procedures. ``fullUrl``s are ``urn:uuid:`` UUIDv5 of stable keys (facility + MA_LK + line),
so two exports of the same data are identical apart from the generation time.

The shape is FHIR R4; it is validated against the R4B models of ``fhir.resources`` (R4B only adds to
R4 and the package has no plain R4 module), see docs/fhir.md. Reads only, a fixed number of queries;
the callers (API, ``export-book``) log the export with ``healthbook.access.record_access``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from soskdt.core.errors import DomainError
from soskdt.healthbook import book as book_services
from soskdt.healthbook import labels, reference_ranges
from soskdt.healthbook.access import AccessContext, record_access
from soskdt.healthbook.models import DrugLine, Result, ServiceCategory, ServiceLine
from soskdt.healthbook.scope import Scope
from soskdt.healthbook.selectors import Who, book_access
from soskdt.registry.models import Citizen, InsuranceCard
from soskdt.sharing import summary as rules

FHIR_VERSION = "4.0.1"
CONTENT_TYPE = "application/fhir+json"
ACTION = "book.fhir"

# --- identifier and code systems (docs/fhir.md §Identifiers) ---------------------------------------------
BASE = "https://soskdt.vn/fhir"
SID_PERSONAL_ID = f"{BASE}/sid/cccd"  # số định danh cá nhân (12 digits), NĐ 102/2025 health identifier
SID_BHYT_CARD = f"{BASE}/sid/bhyt"  # 15-character BHYT card code
SID_SOCIAL_INSURANCE = f"{BASE}/sid/ma-so-bhxh"  # 10-digit lifelong social-insurance number
SID_FACILITY = f"{BASE}/sid/ma-cskcb"  # 5-digit facility code
SID_ENCOUNTER = f"{BASE}/sid/ma-lk"  # MA_LK, unique within a facility: value "<facility>/<MA_LK>"
CS_VISIT_TYPE = f"{BASE}/CodeSystem/ma-loai-kcb"
CS_DISCHARGE_TYPE = f"{BASE}/CodeSystem/ma-loai-rv"
CS_OUTCOME = f"{BASE}/CodeSystem/ket-qua-dtri"
CS_DRUG = f"{BASE}/CodeSystem/ma-thuoc"  # active-ingredient code of the common list (MA_THUOC)
CS_ROUTE = f"{BASE}/CodeSystem/duong-dung"
CS_SERVICE = f"{BASE}/CodeSystem/ma-dich-vu"  # technical-service code (MA_DICH_VU)
CS_INDICATOR = f"{BASE}/CodeSystem/ma-chi-so"  # facility indicator code (MA_CHI_SO)
CS_BHYT_GROUP = f"{BASE}/CodeSystem/ma-doi-tuong-the"  # beneficiary group, first 2 chars of the card
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD9CM = "http://hl7.org/fhir/sid/icd-9-cm"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
LIST_EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, BASE)
_XHTML = "http://www.w3.org/1999/xhtml"

# MA_LOAI_KCB → v3 ActCode encounter class.
ENCOUNTER_CLASS: dict[str, tuple[str, str]] = {
    "03": ("IMP", "inpatient encounter"),
    "06": ("IMP", "inpatient encounter"),
    "04": ("SS", "short stay"),
    "09": ("SS", "short stay"),
    "11": ("FLD", "field"),
    "12": ("HH", "home health"),
    "14": ("VR", "virtual"),
}
_AMBULATORY = ("AMB", "ambulatory")

# IPS sections (LOINC), in the order the IPS guide lists them.
SECTIONS = {
    "problems": ("11450-4", "Problem list - Reported", "Bệnh, chẩn đoán"),
    "allergies": ("48765-2", "Allergies and adverse reactions Document", "Dị ứng"),
    "medications": ("10160-0", "History of Medication use Narrative", "Thuốc đã dùng"),
    "results": ("30954-2", "Relevant diagnostic tests/laboratory data Narrative", "Kết quả cận lâm sàng"),
    "procedures": ("47519-4", "History of Procedures Document", "Phẫu thuật, thủ thuật"),
    "encounters": ("46240-8", "History of Hospitalizations+Outpatient visits Narrative", "Các đợt khám"),
}


def uid(*parts: object) -> str:
    """A deterministic UUID (v5) for a resource named by ``parts``."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def _instant(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _date(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def _concept(*codings: dict[str, str] | None, text: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    kept = [c for c in codings if c]
    if kept:
        found["coding"] = kept
    if text:
        found["text"] = text
    return found


def _narrative(*lines: str) -> dict[str, str]:
    body = "".join(f"<p>{escape(line)}</p>" for line in lines if line) or "<p>—</p>"
    return {"status": "generated", "div": f'<div xmlns="{_XHTML}">{body}</div>'}


def _clean(value: Any) -> Any:
    """Drop empty values (FHIR forbids empty strings, lists and objects)."""
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        cleaned_list = [_clean(v) for v in value]
        return [v for v in cleaned_list if v not in (None, "", [], {})]
    return value


def _decimal(number: Decimal) -> float | int:
    # JSON numbers: FHIR decimals keep their digits; integers stay integers.
    normal = number.normalize()
    if normal == normal.to_integral_value():
        return int(normal)
    return float(normal)


@dataclass
class _Bundle:
    entries: list[dict[str, Any]] = field(default_factory=list)
    refs: dict[str, str] = field(default_factory=dict)

    def add(self, resource_type: str, key: str, resource: dict[str, Any]) -> str:
        """Add a resource named by ``key``; return its reference (``urn:uuid:…``)."""
        if key in self.refs:
            return self.refs[key]
        rid = uid(resource_type, key)
        full_url = f"urn:uuid:{rid}"
        self.entries.append(
            {"fullUrl": full_url, "resource": _clean({"resourceType": resource_type, "id": rid, **resource})}
        )
        self.refs[key] = full_url
        return full_url


@dataclass
class _Sections:
    problems: list[str] = field(default_factory=list)
    medications: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    procedures: list[str] = field(default_factory=list)
    encounters: list[str] = field(default_factory=list)
    lines: dict[str, list[str]] = field(default_factory=dict)

    def note(self, section: str, ref: str, line: str) -> None:
        getattr(self, section).append(ref)
        self.lines.setdefault(section, []).append(line)


# --- the bundle -------------------------------------------------------------------------------------------


def build_bundle(
    *, citizen_id: int, scope: Scope, generated_at: dt.datetime, synced_only: bool = True
) -> dict[str, Any]:
    """The citizen's book within ``scope`` as an IPS-shaped FHIR R4 document Bundle (a JSON-ready dict).

    ``synced_only``: only the visits the book shows (seen by a sync); the operator's export of
    everything linked to the person passes False. At most 8 queries, whatever the number of visits.
    """
    citizen = Citizen.objects.get(pk=citizen_id)
    visit_query = rules.scoped_visits(citizen_id, scope, synced_only=synced_only)
    visits = rules.read_visits(visit_query)
    ids = visit_query.values("id")
    patient = rules.Patient(citizen.sex, citizen.birth_date)
    bundle = _Bundle()
    sections = _Sections()

    patient_ref = bundle.add("Patient", f"patient/{citizen.personal_id}", _patient(citizen))
    author_ref = bundle.add(
        "Organization",
        "org/soskdt",
        {"name": "Sổ sức khỏe điện tử (SoSKDT)", "identifier": [{"system": SID_FACILITY, "value": "SOSKDT"}]},
    )
    card = _card_of(citizen, generated_at)
    if card is not None:
        _coverage(bundle, card, patient_ref)

    facility_refs: dict[str, str] = {}
    encounter_refs: dict[int, str] = {}
    shows_visits = scope.allows_category("visits")
    for visit in visits:
        if visit.facility_code not in facility_refs:
            facility_refs[visit.facility_code] = bundle.add(
                "Organization",
                f"org/{visit.facility_code}",
                {
                    "identifier": [{"system": SID_FACILITY, "value": visit.facility_code}],
                    "name": visit.facility_name or visit.facility_code,
                },
            )
        key = f"{visit.facility_code}/{visit.ma_lk}"
        conditions = _conditions(bundle, visit, scope, patient_ref, key, sections) if shows_visits else []
        encounter_refs[visit.id] = _encounter(
            bundle, visit, scope, patient_ref, facility_refs[visit.facility_code], key, conditions, sections
        )
    by_id = {v.id: v for v in visits}
    if visits and scope.allows_category("drugs"):
        _medications(bundle, ids, by_id, encounter_refs, facility_refs, patient_ref, scope, sections)
    wanted = [c for c in ("lab", "imaging", "functional") if scope.allows_category(c)]
    if visits and wanted:
        _results(
            bundle, ids, by_id, encounter_refs, facility_refs, patient_ref, patient, scope, wanted, sections
        )
    if visits and scope.allows_category("procedures"):
        _procedures(bundle, ids, by_id, encounter_refs, patient_ref, scope, sections)

    composition_key = (
        f"{citizen.personal_id}/{_instant(generated_at)}/{json.dumps(scope.as_dict(), sort_keys=True)}"
    )
    composition = _composition(citizen, patient_ref, author_ref, generated_at, sections, scope)
    bundle.entries.insert(
        0,
        {
            "fullUrl": f"urn:uuid:{uid('Composition', composition_key)}",
            "resource": _clean(
                {"resourceType": "Composition", "id": uid("Composition", composition_key), **composition}
            ),
        },
    )
    bundle_id = uid("Bundle", composition_key)
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"lastUpdated": _instant(generated_at)},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{bundle_id}"},
        "type": "document",
        "timestamp": _instant(generated_at),
        "entry": bundle.entries,
    }


def _patient(citizen: Citizen) -> dict[str, Any]:
    words = citizen.full_name.split()
    gender = {"1": "male", "2": "female"}.get(citizen.sex, "unknown")
    return {
        "identifier": [
            {
                "use": "official",
                "type": _concept(_coding(V2_0203, "NI", "National unique individual identifier")),
                "system": SID_PERSONAL_ID,
                "value": citizen.personal_id,
            }
        ],
        "active": True,
        # Vietnamese names are written family name first.
        "name": [
            {
                "use": "official",
                "text": citizen.full_name,
                "family": words[0] if words else None,
                "given": words[1:],
            }
        ],
        "telecom": [{"system": "phone", "value": citizen.phone, "use": "mobile"}] if citizen.phone else [],
        "gender": gender,
        "birthDate": citizen.birth_date.isoformat(),
        "deceasedDateTime": _date(citizen.date_of_death),
        "address": [
            {
                "use": "home",
                "text": citizen.address,
                "state": citizen.province_code,
                "district": citizen.commune_code,
                "country": "VN",
            }
        ]
        if citizen.address or citizen.province_code
        else [],
    }


def _card_of(citizen: Citizen, generated_at: dt.datetime) -> InsuranceCard | None:
    """The card in the wallet, else the holder's card valid on the export day (one query)."""
    from soskdt.wallet.models import LinkedCard

    linked = (
        LinkedCard.objects.filter(citizen_id=citizen.pk, replaced_at__isnull=True)
        .select_related("card")
        .first()
    )
    if linked is not None:
        return linked.card
    day = timezone.localtime(generated_at).date()
    return (
        InsuranceCard.objects.filter(
            holder_personal_id=citizen.personal_id, valid_from__lte=day, valid_to__gte=day
        )
        .order_by("-valid_to", "-pk")
        .first()
    )


def _coverage(bundle: _Bundle, card: InsuranceCard, patient_ref: str) -> str:
    payor = bundle.add(
        "Organization",
        f"org/bhxh/{card.issuer}",
        {"name": str(card.get_issuer_display()), "alias": ["BHXH"]},
    )
    today = timezone.localdate()
    return bundle.add(
        "Coverage",
        f"coverage/{card.code}/{card.valid_from.isoformat()}",
        {
            "identifier": [{"system": SID_BHYT_CARD, "value": card.code}],
            "status": "active",
            "type": _concept(_coding(V3_ACT_CODE, "PUBLICPOL", "public healthcare"), text="Bảo hiểm y tế"),
            "subscriberId": card.social_insurance_number,
            "beneficiary": {"reference": patient_ref},
            "relationship": _concept(
                _coding("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self")
            ),
            "period": {"start": card.valid_from.isoformat(), "end": card.valid_to.isoformat()},
            "payor": [{"reference": payor}],
            "class": [
                {
                    "type": _concept(_coding(COVERAGE_CLASS, "group", "Group")),
                    "value": card.group,
                    "name": f"Mã đối tượng {card.group}",
                },
                {
                    "type": _concept(_coding(COVERAGE_CLASS, "plan", "Plan")),
                    "value": str(card.benefit_level),
                    "name": f"Mức hưởng {card.benefit_level}",
                },
            ],
            "network": card.primary_care_facility_code,
            "text": _narrative(
                f"Thẻ BHYT {card.code}",
                f"Giá trị từ {card.valid_from:%d/%m/%Y} đến {card.valid_to:%d/%m/%Y}"
                + ("" if card.is_valid_on(today) else " (hết hạn)"),
                f"Nơi đăng ký KCB ban đầu: {card.primary_care_facility_code}",
            ),
        },
    )


def _conditions(
    bundle: _Bundle, visit: rules.VisitRow, scope: Scope, patient_ref: str, key: str, sections: _Sections
) -> list[tuple[str, bool]]:
    found = []
    recorded = _date(rules.local_date(visit.discharged_at or visit.admitted_at))
    for diagnosis in rules.visit_diagnoses(visit, scope):
        clinical = None
        if rules.is_chronic_icd(diagnosis.code):
            clinical = "active"
        elif diagnosis.main and visit.outcome == 1:
            clinical = "resolved"
        ref = bundle.add(
            "Condition",
            f"condition/{key}/v{visit.version}/{diagnosis.position}/{diagnosis.code}",
            {
                "clinicalStatus": _concept(_coding(CONDITION_CLINICAL, clinical)) if clinical else None,
                "verificationStatus": _concept(_coding(CONDITION_VERIFICATION, "confirmed")),
                "category": [
                    _concept(_coding(CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis"))
                ],
                "code": _concept(
                    _coding(ICD10, diagnosis.code, diagnosis.text or None),
                    text=diagnosis.text or diagnosis.code,
                ),
                "subject": {"reference": patient_ref},
                "encounter": {"reference": f"urn:uuid:{uid('Encounter', key)}"},
                "recordedDate": recorded,
            },
        )
        found.append((ref, diagnosis.main))
        sections.note(
            "problems",
            ref,
            f"{diagnosis.code} {diagnosis.text} — {visit.facility_name} {_show_date(visit.date)}".strip(),
        )
    return found


def _show_date(day: dt.date | None) -> str:
    return f"{day:%d/%m/%Y}" if day else ""


def _encounter(
    bundle: _Bundle,
    visit: rules.VisitRow,
    scope: Scope,
    patient_ref: str,
    facility_ref: str,
    key: str,
    conditions: list[tuple[str, bool]],
    sections: _Sections,
) -> str:
    code, display = ENCOUNTER_CLASS.get(visit.visit_type, _AMBULATORY)
    shows_visits = scope.allows_category("visits")
    ref = bundle.add(
        "Encounter",
        key,
        {
            "identifier": [{"system": SID_ENCOUNTER, "value": key}],
            "status": "finished",
            "class": _coding(V3_ACT_CODE, code, display),
            "type": [
                _concept(
                    _coding(CS_VISIT_TYPE, visit.visit_type, labels.visit_type(visit.visit_type)),
                    text=labels.visit_type(visit.visit_type),
                )
            ]
            if visit.visit_type
            else [],
            "subject": {"reference": patient_ref},
            "period": {"start": _instant(visit.admitted_at), "end": _instant(visit.discharged_at)},
            "reasonCode": [_concept(text=visit.reason)] if shows_visits and visit.reason else [],
            "diagnosis": [
                {
                    "condition": {"reference": cref},
                    "use": _concept(_coding(DIAGNOSIS_ROLE, "DD", "Discharge diagnosis")),
                    "rank": i + 1,
                }
                for i, (cref, _main) in enumerate(conditions)
            ],
            "hospitalization": {
                "dischargeDisposition": _concept(
                    _coding(
                        CS_DISCHARGE_TYPE,
                        str(visit.discharge_type),
                        labels.discharge_type(visit.discharge_type),
                    ),
                    text=labels.discharge_type(visit.discharge_type),
                )
            }
            if shows_visits and visit.discharge_type
            else None,
            "serviceProvider": {"reference": facility_ref},
        },
    )
    main_code, main_text = rules.main_diagnosis_text(visit, scope) if shows_visits else ("", "")
    sections.note(
        "encounters",
        ref,
        " — ".join(
            p
            for p in (
                _show_date(visit.date),
                visit.facility_name,
                labels.visit_type(visit.visit_type),
                f"{main_code} {main_text}".strip(),
            )
            if p
        ),
    )
    return ref


def _medications(
    bundle: _Bundle,
    ids: QuerySet[Any],
    by_id: dict[int, rules.VisitRow],
    encounter_refs: dict[int, str],
    facility_refs: dict[str, str],
    patient_ref: str,
    scope: Scope,
    sections: _Sections,
) -> None:
    rows = (
        DrugLine.objects.filter(visit_id__in=ids)
        .order_by("visit_id", "line_no", "id")
        .values(
            "visit_id",
            "line_no",
            "drug_code",
            "name",
            "strength",
            "dosage_form",
            "dose",
            "usage",
            "quantity",
            "unit",
            "route_code",
            "ordered_at",
            "administered_at",
        )
    )
    today = timezone.localdate()
    for row in rows:
        if not rules.allows_drug(scope, row["name"], row["drug_code"]):
            continue
        visit = by_id[row["visit_id"]]
        start = rules.local_date(row["ordered_at"] or row["administered_at"] or visit.admitted_at)
        end = None
        if start is not None:
            days, _how = rules.days_supplied(
                dose=row["dose"],
                quantity=row["quantity"],
                visit_type=visit.visit_type,
                admitted=rules.local_date(visit.admitted_at),
                discharged=rules.local_date(visit.discharged_at),
                start=start,
                treatment_days=visit.treatment_days,
            )
            end = start + dt.timedelta(days=days - 1)
        name = row["name"] or row["drug_code"] or ""
        label = " ".join(p for p in (name, row["strength"]) if p and p not in name) or name
        quantity = (
            f"{_number(row['quantity'])} {row['unit'] or ''}".strip() if row["quantity"] is not None else ""
        )
        ref = bundle.add(
            "MedicationStatement",
            f"medication/{visit.facility_code}/{visit.ma_lk}/v{visit.version}/{row['line_no']}",
            {
                "status": "active" if end is not None and end >= today else "completed",
                "medicationCodeableConcept": _concept(
                    _coding(CS_DRUG, row["drug_code"], name) if row["drug_code"] else None,
                    text=label or name,
                ),
                "subject": {"reference": patient_ref},
                "context": {"reference": encounter_refs[visit.id]},
                "effectivePeriod": {"start": _date(start), "end": _date(end)} if start else None,
                "dateAsserted": _instant(row["ordered_at"] or visit.admitted_at),
                "informationSource": {"reference": facility_refs[visit.facility_code]},
                "note": [{"text": f"Số lượng: {quantity}"}] if quantity else [],
                "dosage": [
                    {
                        "text": "; ".join(p for p in (row["dose"], row["usage"]) if p),
                        "route": _concept(
                            _coding(CS_ROUTE, row["route_code"], labels.route(row["route_code"])),
                            text=labels.route(row["route_code"]),
                        )
                        if row["route_code"]
                        else None,
                    }
                ]
                if row["dose"] or row["usage"] or row["route_code"]
                else [],
            },
        )
        sections.note("medications", ref, f"{label} — {row['dose'] or ''} ({_show_date(start)})")


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _results(
    bundle: _Bundle,
    ids: QuerySet[Any],
    by_id: dict[int, rules.VisitRow],
    encounter_refs: dict[int, str],
    facility_refs: dict[str, str],
    patient_ref: str,
    patient: rules.Patient,
    scope: Scope,
    wanted: list[str],
    sections: _Sections,
) -> None:
    lab = ("lab", "") if "lab" in wanted else ()
    categories = [c for c in wanted if c != "lab"] + list(lab)
    rows = (
        Result.objects.filter(visit_id__in=ids, category__in=categories)
        .order_by("visit_id", "line_no", "id")
        .values(
            "visit_id",
            "line_no",
            "category",
            "service_code",
            "indicator_code",
            "indicator_name",
            "value",
            "unit",
            "description",
            "conclusion",
            "result_at",
            "service_line__name",
        )
    )
    for row in rows:
        if not rules.allows_result(
            scope, row["indicator_name"], row["service_line__name"], row["service_code"]
        ):
            continue
        visit = by_id[row["visit_id"]]
        key = f"{visit.facility_code}/{visit.ma_lk}/v{visit.version}/{row['line_no']}"
        at = row["result_at"] or visit.admitted_at
        name = row["indicator_name"] or row["service_line__name"] or row["service_code"] or ""
        service_coding = (
            _coding(CS_SERVICE, row["service_code"], row["service_line__name"])
            if row["service_code"]
            else None
        )
        if row["category"] in lab:
            ref = _observation(
                bundle,
                row,
                key,
                name,
                at,
                patient,
                patient_ref,
                encounter_refs[visit.id],
                facility_refs[visit.facility_code],
                service_coding,
            )
            value = f"{row['value'] or ''} {row['unit'] or ''}".strip()
            sections.note("results", ref, f"{name}: {value} ({_show_date(rules.local_date(at))})")
            continue
        ref = bundle.add(
            "DiagnosticReport",
            f"report/{key}",
            {
                "text": _narrative(
                    name,
                    f"Mô tả: {row['description']}" if row["description"] else "",
                    f"Kết luận: {row['conclusion']}" if row["conclusion"] else "",
                ),
                "status": "final",
                "category": [
                    _concept(
                        _coding(V2_0074, "RAD", "Radiology")
                        if row["category"] == ServiceCategory.IMAGING
                        else _coding(V2_0074, "OTH", "Other"),
                        text=labels.category(row["category"]),
                    )
                ],
                "code": _concept(service_coding, text=name),
                "subject": {"reference": patient_ref},
                "encounter": {"reference": encounter_refs[visit.id]},
                "effectiveDateTime": _instant(at),
                "issued": _instant(row["result_at"]),
                "performer": [{"reference": facility_refs[visit.facility_code]}],
                "conclusion": row["conclusion"] or row["description"],
            },
        )
        sections.note("results", ref, f"{name}: {row['conclusion'] or row['description'] or ''}")


def _observation(
    bundle: _Bundle,
    row: Mapping[str, Any],
    key: str,
    name: str,
    at: dt.datetime | None,
    patient: rules.Patient,
    patient_ref: str,
    encounter_ref: str,
    facility_ref: str,
    service_coding: dict[str, str] | None,
) -> str:
    value = (row["value"] or "").strip()
    number = reference_ranges.parse_number(value)
    assessment = rules.assess(patient, row, at)
    resource: dict[str, Any] = {
        "status": "final",
        "category": [_concept(_coding(OBS_CATEGORY, "laboratory", "Laboratory"))],
        "code": _concept(
            _coding(CS_INDICATOR, row["indicator_code"], row["indicator_name"])
            if row["indicator_code"]
            else None,
            service_coding if not row["indicator_code"] else None,
            text=name,
        ),
        "subject": {"reference": patient_ref},
        "encounter": {"reference": encounter_ref},
        "effectiveDateTime": _instant(at),
        "issued": _instant(row["result_at"]),
        "performer": [{"reference": facility_ref}],
        "note": [{"text": t} for t in (row["description"], row["conclusion"]) if t],
    }
    if number is not None:
        resource["valueQuantity"] = {"value": _decimal(number), "unit": row["unit"]}
    elif value:
        resource["valueString"] = value
    else:
        resource["dataAbsentReason"] = _concept(
            _coding("http://terminology.hl7.org/CodeSystem/data-absent-reason", "unknown", "Unknown")
        )
    if assessment is not None:
        if assessment.flag is not None:
            code, display = ("H", "High") if assessment.flag == "high" else ("L", "Low")
        else:
            code, display = "N", "Normal"
        resource["interpretation"] = [_concept(_coding(V3_INTERPRETATION, code, display))]
        resource["referenceRange"] = [
            {
                "low": {"value": _decimal(assessment.low), "unit": row["unit"]}
                if assessment.low is not None
                else None,
                "high": {"value": _decimal(assessment.high), "unit": row["unit"]}
                if assessment.high is not None
                else None,
                "text": assessment.range_text,
            }
        ]
    return bundle.add("Observation", f"observation/{key}", resource)


def _procedures(
    bundle: _Bundle,
    ids: QuerySet[Any],
    by_id: dict[int, rules.VisitRow],
    encounter_refs: dict[int, str],
    patient_ref: str,
    scope: Scope,
    sections: _Sections,
) -> None:
    rows = (
        ServiceLine.objects.filter(
            visit_id__in=ids, category__in=(ServiceCategory.SURGERY, ServiceCategory.PROCEDURE)
        )
        .order_by("visit_id", "line_no", "id")
        .values(
            "visit_id",
            "line_no",
            "category",
            "service_code",
            "name",
            "procedure_codes",
            "performed_at",
            "ordered_at",
            "anaesthesia",
        )
    )
    for row in rows:
        if not rules.allows_result(scope, row["name"], row["service_code"]):
            continue
        visit = by_id[row["visit_id"]]
        name = row["name"] or row["service_code"] or ""
        icd9 = [c.strip() for c in (row["procedure_codes"] or "").split(";") if c.strip()]
        surgery = row["category"] == ServiceCategory.SURGERY
        ref = bundle.add(
            "Procedure",
            f"procedure/{visit.facility_code}/{visit.ma_lk}/v{visit.version}/{row['line_no']}",
            {
                "status": "completed",
                "category": _concept(
                    _coding(SNOMED, "387713003", "Surgical procedure") if surgery else None,
                    text=labels.category(row["category"]),
                ),
                "code": _concept(
                    _coding(CS_SERVICE, row["service_code"], name) if row["service_code"] else None,
                    *(_coding(ICD9CM, c) for c in icd9),
                    text=name,
                ),
                "subject": {"reference": patient_ref},
                "encounter": {"reference": encounter_refs[visit.id]},
                "performedDateTime": _instant(row["performed_at"] or row["ordered_at"] or visit.admitted_at),
                "note": [{"text": f"Phương pháp vô cảm: {labels.anaesthesia(row['anaesthesia'])}"}]
                if row["anaesthesia"]
                else [],
            },
        )
        when = rules.local_date(row["performed_at"] or visit.admitted_at)
        sections.note("procedures", ref, f"{name} — {visit.facility_name} {_show_date(when)}")


# Section → the share categories it shows (docs/fhir.md): withheld when the scope grants none of them.
_SECTION_CATEGORIES = {
    "problems": ("visits",),
    "medications": ("drugs",),
    "results": ("lab", "imaging", "functional"),
    "procedures": ("procedures",),
}


def _composition(
    citizen: Citizen,
    patient_ref: str,
    author_ref: str,
    generated_at: dt.datetime,
    sections: _Sections,
    scope: Scope,
) -> dict[str, Any]:
    built = []
    for key, (code, display, title) in SECTIONS.items():
        refs: list[str] = getattr(sections, key, [])
        section: dict[str, Any] = {
            "title": title,
            "code": _concept(_coding(LOINC, code, display)),
        }
        if refs:
            section["text"] = _narrative(*sections.lines.get(key, []))
            section["entry"] = [{"reference": r} for r in refs]
        elif not any(scope.allows_category(c) for c in _SECTION_CATEGORIES.get(key, ("visits",))) and (
            key != "allergies"
        ):
            section["text"] = _narrative("Không nằm trong phạm vi chia sẻ.")
            section["emptyReason"] = _concept(_coding(LIST_EMPTY_REASON, "withheld", "Information Withheld"))
        else:
            # IPS: a required section with nothing to say carries an empty reason and a narrative.
            section["text"] = _narrative(
                "Sổ chưa có thông tin dị ứng." if key == "allergies" else "Sổ không có thông tin."
            )
            section["emptyReason"] = _concept(_coding(LIST_EMPTY_REASON, "unavailable", "Unavailable"))
        built.append(section)
    return {
        "status": "final",
        "type": _concept(_coding(LOINC, "60591-5", "Patient summary Document")),
        "subject": {"reference": patient_ref},
        "date": _instant(generated_at),
        "author": [{"reference": author_ref}],
        "title": f"Tóm tắt hồ sơ sức khỏe — {citizen.full_name}",
        "confidentiality": "R",
        "language": "vi-VN",
        "section": built,
    }


# --- validation and the logged export ---------------------------------------------------------------------


def validate(bundle: dict[str, Any]) -> Any:
    """Parse ``bundle`` with the fhir.resources R4B models; raises pydantic's ValidationError when invalid."""
    from fhir.resources.R4B.bundle import Bundle

    return Bundle.model_validate(bundle)


def dumps(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":"))


def references(bundle: dict[str, Any]) -> Iterable[str]:
    """Every ``reference`` in the bundle (for checks that all of them resolve inside it)."""

    def walk(value: Any) -> Iterable[str]:
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "reference" and isinstance(v, str):
                    yield v
                else:
                    yield from walk(v)
        elif isinstance(value, list):
            for v in value:
                yield from walk(v)

    return list(walk(bundle))


def export_own_book(
    *,
    viewer: Any,
    who: Who,
    gate: book_services.Gate,
    context: AccessContext,
    generated_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The viewer's own book (or a represented person's) as a FHIR Bundle, checked and logged (``book.fhir``).

    Same gate as every read of the book: the account's level 2, an open book, and the channel's
    passcode unlock (``X-Book-Token`` in the API). Owners read with ``Scope.full()``.
    """
    with transaction.atomic():
        access = book_access(viewer, who, for_update=True)
        book_services.require_level2(viewer)
        book_services.require_open(access)
        if not gate(access):
            raise DomainError(book_services.BOOK_LOCKED, status=401)
        bundle = build_bundle(
            citizen_id=access.citizen.pk, scope=Scope.full(), generated_at=generated_at or timezone.now()
        )
        record_access(
            book=access.book,
            actor_id=viewer.pk,
            actor_kind=access.actor_kind,
            action=ACTION,
            target="bundle",
            context=context,
            lock=False,
        )
    return bundle
