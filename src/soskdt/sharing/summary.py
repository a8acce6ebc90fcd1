"""The clinical summary of a book for the clinician at reception (the decision-support page).

``clinical_summary`` reads one citizen's visits within a ``Scope`` and condenses them: recurring and
chronic diagnoses across facilities, drugs of the last 90 days with a warning when the same active
ingredient comes from two facilities in overlapping periods, the latest lab values with flags and
trends, recent imaging and functional-test conclusions, surgeries and procedures, pending follow-ups
and referrals, and the visits that are new since the reader's last view. Every item carries the visit
it comes from (id, date, facility) so that pages can link to it.

It only reads, with a fixed number of queries whatever the number of visits (at most ``MAX_QUERIES``),
and it does not log: the caller reads inside its own logged transaction (``healthbook.access``).
Rules (the chronic list, days supplied, overlap, trend) are documented in docs/fhir.md §Summary.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from soskdt.core.dates import PartialDate
from soskdt.healthbook import labels, reference_ranges
from soskdt.healthbook.models import (
    DrugLine,
    FollowUp,
    Referral,
    Result,
    ServiceCategory,
    ServiceLine,
    Visit,
)
from soskdt.healthbook.reads import hiv_visit_filter
from soskdt.healthbook.scope import Scope, is_arv_drug, is_hiv_diagnosis, is_hiv_test
from soskdt.registry.models import Citizen, Facility

#: The most queries ``clinical_summary`` makes, whatever the number of visits.
MAX_QUERIES = 8
DRUG_WINDOW_DAYS = 90
REPORTS_SHOWN = 10
PROCEDURES_SHOWN = 20
LAB_HISTORY = 5
REFERRAL_WINDOW_DAYS = 365

# ICD-10 blocks treated as chronic even when seen once: hypertensive diseases, diabetes, COPD and
# asthma, chronic kidney disease, ischaemic heart disease, heart failure, lipid disorders, liver
# fibrosis/cirrhosis, chronic viral hepatitis, rheumatoid arthritis, thyroid disorders, epilepsy,
# chronic HIV disease (shown only within an HIV-consenting scope), Parkinson's, gout, osteoporosis.
CHRONIC_ICD_PREFIXES: tuple[str, ...] = (
    *(f"I{n}" for n in range(10, 16)),  # I10–I15
    *(f"E{n}" for n in range(10, 15)),  # E10–E14
    "J44",
    "J45",
    "N18",
    *(f"I{n}" for n in range(20, 26)),  # I20–I25
    "I48",
    "I50",
    "E78",
    "K70",
    "K74",
    "B18",
    "M05",
    "M06",
    "E03",
    "E05",
    "G40",
    "G20",
    "M10",
    "M81",
    "B20",
    "B21",
    "B22",
    "B23",
    "B24",
)

# Visit types whose drug lines are daily orders of a stay (QĐ 4750: "… * 1 ngày").
_STAY_TYPES = frozenset({"03", "04", "06", "09"})

Trend = Literal["up", "down", "same"]


# --- what the summary returns -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceVisit:
    """The visit an item comes from: enough to link to it and say where and when."""

    id: int
    date: dt.date | None
    facility_code: str
    facility_name: str


@dataclass(frozen=True, slots=True)
class DiagnosisEntry:
    """One ICD-10 code across the visits in scope."""

    code: str
    text: str
    count: int  # visits that carry the code (main or secondary)
    facilities: tuple[str, ...]  # facility names (code when the name is unknown), first seen first
    first_date: dt.date | None
    last_date: dt.date | None
    last_visit: SourceVisit
    chronic: bool  # in the chronic list
    as_main: int  # visits where it is the main diagnosis

    @property
    def recurring(self) -> bool:
        return self.count >= 2

    @property
    def chronic_or_recurring(self) -> bool:
        return self.chronic or self.recurring


@dataclass(frozen=True, slots=True)
class DrugEntry:
    """One drug line of the last 90 days with the period it covers."""

    ingredient: str  # the normalised active ingredient (the grouping key)
    name: str
    code: str
    strength: str
    dose: str
    usage: str
    quantity: Decimal | None
    unit: str
    route: str
    start: dt.date
    end: dt.date  # inclusive: start + days supplied - 1
    days: int
    days_source: Literal["dose", "quantity", "stay", "visit", "default"]
    source: SourceVisit

    def overlaps(self, other: DrugEntry) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True, slots=True)
class OverlapWarning:
    """The same active ingredient from two or more facilities in overlapping periods."""

    ingredient: str
    name: str
    facilities: tuple[str, ...]
    drugs: tuple[DrugEntry, ...]
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class LabPoint:
    value: str
    number: Decimal | None
    at: dt.datetime | None
    flag: str | None
    visit_id: int


@dataclass(frozen=True, slots=True)
class LabEntry:
    """The latest value of one lab indicator, its flag and its trend against the previous value."""

    key: str
    code: str
    name: str
    value: str
    unit: str
    flag: str | None  # "high" | "low" | None
    reference: str
    result_at: dt.datetime | None
    trend: Trend | None  # None when not repeated or not numeric
    history: tuple[LabPoint, ...]  # oldest first, the last LAB_HISTORY values
    source: SourceVisit

    @property
    def trend_symbol(self) -> str:
        return {"up": "↑", "down": "↓", "same": "→"}.get(self.trend or "", "")

    @property
    def repeated(self) -> bool:
        return len(self.history) > 1


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """An imaging or functional-test result with its conclusion."""

    category: str
    name: str
    description: str
    conclusion: str
    result_at: dt.datetime | None
    source: SourceVisit

    @property
    def category_label(self) -> str:
        return labels.category(self.category)


@dataclass(frozen=True, slots=True)
class ProcedureEntry:
    category: str  # surgery | procedure
    name: str
    code: str
    procedure_codes: str  # ICD-9-CM (MA_PTTT_QT), ";"-separated as sent
    performed_at: dt.datetime | None
    anaesthesia: str
    source: SourceVisit

    @property
    def category_label(self) -> str:
        return labels.category(self.category)


@dataclass(frozen=True, slots=True)
class AppointmentEntry:
    """A pending follow-up appointment (XML14, else the visit's NGAY_TAI_KHAM)."""

    at: dt.datetime | None
    date: dt.date
    diagnosis: str
    facility_code: str
    facility_name: str
    slip_number: str
    from_slip: bool  # XML14 (True) or XML1 NGAY_TAI_KHAM (False)
    source: SourceVisit


@dataclass(frozen=True, slots=True)
class ReferralEntry:
    """A referral (XML13) not yet followed by a visit at the destination facility."""

    paper_number: str
    to_facility_code: str
    to_facility_name: str
    diagnosis: str
    reason: str
    recommended_treatment: str
    date: dt.date | None
    source: SourceVisit


@dataclass(frozen=True, slots=True)
class NewVisit:
    """A visit received or linked after the reader's last view."""

    source: SourceVisit
    arrived_at: dt.datetime
    visit_type: str
    main_icd: str
    main_diagnosis: str

    @property
    def visit_type_label(self) -> str:
        return labels.visit_type(self.visit_type)


@dataclass(frozen=True, slots=True)
class ClinicalSummary:
    citizen_id: int
    today: dt.date
    since: dt.datetime | None
    scope: Scope
    visits: int
    diagnoses: list[DiagnosisEntry] = field(default_factory=list)
    drugs: list[DrugEntry] = field(default_factory=list)
    overlaps: list[OverlapWarning] = field(default_factory=list)
    labs: list[LabEntry] = field(default_factory=list)
    reports: list[ReportEntry] = field(default_factory=list)
    procedures: list[ProcedureEntry] = field(default_factory=list)
    procedures_total: int = 0
    follow_ups: list[AppointmentEntry] = field(default_factory=list)
    referrals: list[ReferralEntry] = field(default_factory=list)
    new_visits: list[NewVisit] = field(default_factory=list)

    @property
    def chronic_diagnoses(self) -> list[DiagnosisEntry]:
        """Chronic or recurring diagnoses (the page's first section)."""
        return [d for d in self.diagnoses if d.chronic_or_recurring]

    @property
    def first_view(self) -> bool:
        return self.since is None

    def shows(self, category: str) -> bool:
        return self.scope.allows_category(category)


# --- rules -------------------------------------------------------------------------------------------


def is_chronic_icd(code: str | None) -> bool:
    """Tell whether an ICD-10 code is in the chronic list (by its three-character category)."""
    text = (code or "").strip().upper()
    return bool(text) and text[:3] in CHRONIC_ICD_PREFIXES


_STRENGTH_RE = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|μg|ug|g|kg|ml|l|iu|ui|đv|dv|mmol|meq|%|mui|triệu\s*iu)"
    r"(?:\s*/\s*\d*(?:[.,]\d+)?\s*(?:ml|l|g|viên|liều|giờ|h))?",
    re.IGNORECASE,
)
_SPACES_RE = re.compile(r"\s+")


def normalise_ingredient(name: str | None, strength: str | None = None) -> str:
    """The grouping key of an active ingredient: NFC, lower case, without the strength.

    ``Amlodipin 5mg`` and ``AMLODIPIN`` both give ``amlodipin``; ``Natri clorid 0,9% 500ml`` gives
    ``natri clorid``; combinations keep their ``+``: ``vitamin b1 + b6 + b12``.
    """
    text = unicodedata.normalize("NFC", name or "").lower()
    strength_text = unicodedata.normalize("NFC", strength or "").lower().strip()
    if strength_text and strength_text in text:
        text = text.replace(strength_text, " ")
    text = _STRENGTH_RE.sub(" ", text)
    text = re.sub(r"\(\s*\)", " ", text)
    text = _SPACES_RE.sub(" ", text).strip(" ,;-/+")
    return re.sub(r"\s*\+\s*", " + ", text)


_DAYS_RE = re.compile(r"\*\s*(\d+)\s*ngày", re.IGNORECASE)
_PER_DAY_RE = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*[^*\d]*?/\s*lần\s*\*\s*(\d+(?:[.,]\d+)?)\s*lần\s*/\s*ngày", re.IGNORECASE
)


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def days_supplied(
    *,
    dose: str | None,
    quantity: Decimal | None,
    visit_type: str | None,
    admitted: dt.date | None,
    discharged: dt.date | None,
    start: dt.date,
    treatment_days: int | None,
) -> tuple[int, Literal["dose", "quantity", "stay", "visit", "default"]]:
    """How many days a drug line covers, and from what.

    1. ``LIEU_DUNG`` written as QĐ 4750 asks (``… * N ngày``): N days.
    2. Else quantity ÷ (amount per time × times per day) from the dose, rounded up.
    3. Else, in a stay (types 03, 04, 06, 09), from the order to discharge.
    4. Else the visit's treatment days (``SO_NGAY_DTRI``) when above zero.
    5. Else one day.
    """
    text = dose or ""
    days = _DAYS_RE.search(text)
    if days and int(days.group(1)) > 0:
        return int(days.group(1)), "dose"
    per_day = _PER_DAY_RE.search(text)
    if per_day and quantity:
        daily = _decimal(per_day.group(1)) * _decimal(per_day.group(2))
        if daily > 0:
            return max(1, math.ceil(quantity / daily)), "quantity"
    if visit_type in _STAY_TYPES and discharged is not None and discharged >= start:
        return (discharged - start).days + 1, "stay"
    if treatment_days:
        return int(treatment_days), "visit"
    return 1, "default"


def trend_of(previous: Decimal | None, latest: Decimal | None) -> Trend | None:
    if previous is None or latest is None:
        return None
    if latest > previous:
        return "up"
    if latest < previous:
        return "down"
    return "same"


# --- reading -----------------------------------------------------------------------------------------


def book_visits(citizen_id: int, *, synced_only: bool = True) -> QuerySet[Visit]:
    """The citizen's visits: those the book shows (seen by a sync), or every linked one."""
    visits = Visit.objects.filter(citizen_id=citizen_id)
    if synced_only:
        visits = visits.filter(
            citizen__book__last_synced_at__isnull=False, linked_at__lte=F("citizen__book__last_synced_at")
        )
    return visits


def scoped_visits(citizen_id: int, scope: Scope, *, synced_only: bool = True) -> QuerySet[Visit]:
    """The visits within the scope's years; without HIV consent, HIV-related visits are left out whole.

    HIV lines inside other visits (ARV drugs, HIV tests) are filtered line by line as well.
    """
    visits = book_visits(citizen_id, synced_only=synced_only)
    if scope.years is not None:
        visits = visits.filter(visit_year__in=sorted(scope.years))
    if not scope.include_hiv:
        visits = visits.exclude(hiv_visit_filter())
    return visits


def local_date(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(moment).date() if moment is not None else None


@dataclass(frozen=True, slots=True)
class VisitRow:
    """The columns of a visit the summary and the FHIR export use (internal)."""

    id: int
    facility_code: str
    facility_name: str
    ma_lk: str
    version: int
    year: int | None
    visit_type: str
    admitted_at: dt.datetime | None
    discharged_at: dt.datetime | None
    received_at: dt.datetime
    linked_at: dt.datetime | None
    main_icd: str
    secondary_icds: str
    discharge_diagnosis: str
    reason: str
    treatment_days: int | None
    outcome: int | None
    discharge_type: int | None
    follow_up_on: dt.date | None

    @property
    def date(self) -> dt.date | None:
        return local_date(self.admitted_at or self.discharged_at)

    @property
    def source(self) -> SourceVisit:
        return SourceVisit(self.id, self.date, self.facility_code, self.facility_name or self.facility_code)

    @property
    def arrived_at(self) -> dt.datetime:
        return max(self.received_at, self.linked_at or self.received_at)


VISIT_FIELDS = (
    "id",
    "facility_code",
    "facility__name",
    "ma_lk",
    "version",
    "visit_year",
    "visit_type",
    "admitted_at",
    "discharged_at",
    "received_at",
    "linked_at",
    "main_icd",
    "secondary_icds",
    "discharge_diagnosis",
    "reason",
    "treatment_days",
    "outcome",
    "discharge_type",
    "follow_up_on",
)


def read_visits(visits: QuerySet[Visit]) -> list[VisitRow]:
    """The visit rows, newest first (one query)."""
    rows = visits.order_by("-admitted_at", "-id").values_list(*VISIT_FIELDS)
    return [
        VisitRow(
            id=r[0],
            facility_code=r[1],
            facility_name=r[2] or "",
            ma_lk=r[3],
            version=r[4],
            year=r[5],
            visit_type=r[6] or "",
            admitted_at=r[7],
            discharged_at=r[8],
            received_at=r[9],
            linked_at=r[10],
            main_icd=(r[11] or "").strip(),
            secondary_icds=r[12] or "",
            discharge_diagnosis=r[13] or "",
            reason=r[14] or "",
            treatment_days=r[15],
            outcome=r[16],
            discharge_type=r[17],
            follow_up_on=r[18],
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class CodedDiagnosis:
    code: str
    text: str
    main: bool
    position: int


def visit_diagnoses(visit: VisitRow, scope: Scope) -> list[CodedDiagnosis]:
    """The visit's ICD-10 codes (main first) with their texts, paired by position as QĐ 130 writes them.

    Outside an HIV-consenting scope, HIV diagnoses are dropped with their text.
    """
    codes = [visit.main_icd] if visit.main_icd else []
    codes += [c.strip() for c in visit.secondary_icds.split(";") if c.strip()]
    texts = [t.strip() for t in visit.discharge_diagnosis.split(";") if t.strip()]
    found = []
    for i, code in enumerate(codes):
        if not scope.include_hiv and is_hiv_diagnosis(code):
            continue
        found.append(
            CodedDiagnosis(
                code=code.upper(),
                text=texts[i] if i < len(texts) else "",
                main=i == 0 and bool(visit.main_icd),
                position=i,
            )
        )
    return found


def main_diagnosis_text(visit: VisitRow, scope: Scope) -> tuple[str, str]:
    """The main code and text of a visit as a reader in ``scope`` may see them."""
    if not scope.include_hiv and is_hiv_diagnosis(visit.main_icd):
        return "", ""
    first = visit.discharge_diagnosis.split(";")[0].strip()
    return visit.main_icd, first


def hides_document(main_icd: str | None, secondary: str | None, scope: Scope) -> bool:
    """Tell whether a paper's diagnosis must be hidden from this scope (it names an HIV diagnosis)."""
    if scope.include_hiv:
        return False
    codes = [main_icd or "", *(secondary or "").split(";")]
    return any(is_hiv_diagnosis(c) for c in codes if c and c.strip())


def allows_drug(scope: Scope, name: str | None, code: str | None) -> bool:
    return scope.include_hiv or not is_arv_drug(name, code)


def allows_result(scope: Scope, *texts: str | None) -> bool:
    return scope.include_hiv or not is_hiv_test(*texts)


@dataclass(frozen=True, slots=True)
class Patient:
    sex: str
    birth: PartialDate

    def age_at(self, moment: dt.datetime | dt.date | None) -> int | None:
        if moment is None:
            return None
        day = local_date(moment) if isinstance(moment, dt.datetime) else moment
        return self.birth.age_on(day) if day is not None else None


def read_patient(citizen_id: int) -> Patient:
    sex, year, month, day = (
        Citizen.objects.filter(pk=citizen_id)
        .values_list("sex", "birth_year", "birth_month", "birth_day")
        .get()
    )
    return Patient(sex, PartialDate(year, month, day))


def assess(
    patient: Patient, row: Mapping[str, Any], at: dt.datetime | None
) -> reference_ranges.Assessment | None:
    return reference_ranges.assess(
        code=row["indicator_code"],
        name=row["indicator_name"],
        value=row["value"],
        unit=row["unit"],
        sex=patient.sex,
        age=patient.age_at(at),
    )


# --- the summary ----------------------------------------------------------------------------------------


def clinical_summary(
    *, citizen_id: int, scope: Scope, since: dt.datetime | None, today: dt.date | None = None
) -> ClinicalSummary:
    """Condense a citizen's book within ``scope`` for a clinician (at most ``MAX_QUERIES`` queries).

    ``since`` is the reader's previous view of this book (None: first view, nothing is "new").
    ``today`` defaults to the local date; drugs are those ordered in the 90 days up to it.
    """
    today = today or timezone.localdate()
    patient = read_patient(citizen_id)
    visit_query = scoped_visits(citizen_id, scope)
    visits = read_visits(visit_query)
    if not visits:
        return ClinicalSummary(citizen_id=citizen_id, today=today, since=since, scope=scope, visits=0)
    by_id = {v.id: v for v in visits}
    ids = visit_query.values("id")
    parts: dict[str, Any] = {}
    if scope.allows_category("visits"):
        parts["diagnoses"] = _diagnoses(visits, scope)
        parts["follow_ups"], parts["referrals"] = _appointments(ids, visits, by_id, scope, today)
        parts["new_visits"] = _new_visits(visits, scope, since)
    if scope.allows_category("drugs"):
        parts["drugs"] = _drugs(ids, by_id, scope, today)
        parts["overlaps"] = overlap_warnings(parts["drugs"])
    wanted = [c for c in ("lab", "imaging", "functional") if scope.allows_category(c)]
    if wanted:
        parts["labs"], parts["reports"] = _results(ids, by_id, scope, patient, wanted)
    if scope.allows_category("procedures"):
        procedures = _procedures(ids, by_id, scope)
        parts["procedures"] = procedures[:PROCEDURES_SHOWN]
        parts["procedures_total"] = len(procedures)
    return ClinicalSummary(
        citizen_id=citizen_id, today=today, since=since, scope=scope, visits=len(visits), **parts
    )


def _diagnoses(visits: Sequence[VisitRow], scope: Scope) -> list[DiagnosisEntry]:
    seen: dict[str, dict[str, Any]] = {}
    # Oldest first, so that "last" ends on the newest visit and facilities list in order of first visit.
    for visit in sorted(
        visits, key=lambda v: (v.admitted_at or dt.datetime.min.replace(tzinfo=dt.UTC), v.id)
    ):
        counted: set[str] = set()
        for diagnosis in visit_diagnoses(visit, scope):
            if diagnosis.code in counted:
                continue
            counted.add(diagnosis.code)
            entry = seen.setdefault(
                diagnosis.code,
                {"count": 0, "main": 0, "facilities": [], "first": visit.date, "text": ""},
            )
            entry["count"] += 1
            entry["main"] += int(diagnosis.main)
            name = visit.facility_name or visit.facility_code
            if name not in entry["facilities"]:
                entry["facilities"].append(name)
            entry["last"] = visit
            entry["text"] = diagnosis.text or entry["text"]
    found = [
        DiagnosisEntry(
            code=code,
            text=e["text"],
            count=e["count"],
            facilities=tuple(e["facilities"]),
            first_date=e["first"],
            last_date=e["last"].date,
            last_visit=e["last"].source,
            chronic=is_chronic_icd(code),
            as_main=e["main"],
        )
        for code, e in seen.items()
    ]
    found.sort(
        key=lambda d: (
            not d.chronic_or_recurring,
            -d.count,
            -(d.last_date or dt.date.min).toordinal(),
            d.code,
        )
    )
    return found


def _drugs(ids: QuerySet[Any], by_id: dict[int, VisitRow], scope: Scope, today: dt.date) -> list[DrugEntry]:
    window_start = today - dt.timedelta(days=DRUG_WINDOW_DAYS - 1)
    lines = (
        DrugLine.objects.filter(visit_id__in=ids)
        .filter(
            Q(ordered_at__date__gte=window_start - dt.timedelta(days=1))
            | Q(ordered_at__isnull=True, visit__admitted_at__date__gte=window_start - dt.timedelta(days=1))
        )
        .order_by("visit_id", "line_no", "id")
        .values(
            "visit_id",
            "drug_code",
            "name",
            "strength",
            "dose",
            "usage",
            "quantity",
            "unit",
            "route_code",
            "ordered_at",
            "administered_at",
        )
    )
    found = []
    for line in lines:
        visit = by_id[line["visit_id"]]
        if not allows_drug(scope, line["name"], line["drug_code"]):
            continue
        start = local_date(line["ordered_at"] or line["administered_at"] or visit.admitted_at)
        if start is None or not window_start <= start <= today:
            continue
        days, how = days_supplied(
            dose=line["dose"],
            quantity=line["quantity"],
            visit_type=visit.visit_type,
            admitted=local_date(visit.admitted_at),
            discharged=local_date(visit.discharged_at),
            start=start,
            treatment_days=visit.treatment_days,
        )
        found.append(
            DrugEntry(
                ingredient=normalise_ingredient(line["name"] or line["drug_code"], line["strength"]),
                name=line["name"] or line["drug_code"] or "",
                code=line["drug_code"] or "",
                strength=line["strength"] or "",
                dose=line["dose"] or "",
                usage=line["usage"] or "",
                quantity=line["quantity"],
                unit=line["unit"] or "",
                route=labels.route(line["route_code"]),
                start=start,
                end=start + dt.timedelta(days=days - 1),
                days=days,
                days_source=how,
                source=visit.source,
            )
        )
    found.sort(key=lambda d: (-d.start.toordinal(), d.ingredient, d.source.id))
    return found


def overlap_warnings(drugs: Iterable[DrugEntry]) -> list[OverlapWarning]:
    """One warning per ingredient that two facilities supply in overlapping periods."""
    by_ingredient: dict[str, list[DrugEntry]] = defaultdict(list)
    for drug in drugs:
        if drug.ingredient:
            by_ingredient[drug.ingredient].append(drug)
    warnings = []
    for ingredient, group in sorted(by_ingredient.items()):
        involved: dict[int, DrugEntry] = {}
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if a.source.facility_code != b.source.facility_code and a.overlaps(b):
                    involved[id(a)] = a
                    involved[id(b)] = b
        if not involved:
            continue
        items = sorted(involved.values(), key=lambda d: (d.start, d.source.id))
        facilities = tuple(dict.fromkeys(d.source.facility_name for d in items))
        warnings.append(
            OverlapWarning(
                ingredient=ingredient,
                name=items[0].name,
                facilities=facilities,
                drugs=tuple(items),
                start=min(d.start for d in items),
                end=max(d.end for d in items),
            )
        )
    return warnings


_LAB_CATEGORIES = (ServiceCategory.LAB.value, "")


def _results(
    ids: QuerySet[Any], by_id: dict[int, VisitRow], scope: Scope, patient: Patient, wanted: list[str]
) -> tuple[list[LabEntry], list[ReportEntry]]:
    categories = [c for c in wanted if c != "lab"] + (list(_LAB_CATEGORIES) if "lab" in wanted else [])
    rows = (
        Result.objects.filter(visit_id__in=ids, category__in=categories)
        .order_by("visit_id", "line_no", "id")
        .values(
            "visit_id",
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
    series: dict[str, list[tuple[Mapping[str, Any], dt.datetime | None]]] = defaultdict(list)
    reports: list[ReportEntry] = []
    for row in rows:
        if not allows_result(scope, row["indicator_name"], row["service_line__name"], row["service_code"]):
            continue
        visit = by_id[row["visit_id"]]
        at = row["result_at"] or visit.admitted_at
        if row["category"] in _LAB_CATEGORIES:
            if not (row["value"] or "").strip():
                continue
            key = (row["indicator_code"] or "").strip().upper() or reference_ranges.fold(
                row["indicator_name"] or row["service_line__name"] or row["service_code"]
            ).strip()
            if key:
                series[key].append((row, at))
        elif (row["conclusion"] or row["description"] or "").strip():
            reports.append(
                ReportEntry(
                    category=row["category"],
                    name=row["indicator_name"] or row["service_line__name"] or row["service_code"] or "",
                    description=row["description"] or "",
                    conclusion=row["conclusion"] or "",
                    result_at=at,
                    source=visit.source,
                )
            )
    labs = [_lab_entry(key, points, by_id, patient) for key, points in series.items()]
    labs.sort(key=lambda e: (e.flag is None, (e.name or e.code).lower()))
    reports.sort(key=lambda r: r.result_at or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
    return labs, reports[:REPORTS_SHOWN]


def _lab_entry(
    key: str,
    points: list[tuple[Mapping[str, Any], dt.datetime | None]],
    by_id: dict[int, VisitRow],
    patient: Patient,
) -> LabEntry:
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    points.sort(key=lambda p: (p[1] or epoch, p[0]["visit_id"]))
    history = []
    for row, at in points[-LAB_HISTORY:]:
        assessment = assess(patient, row, at)
        history.append(
            LabPoint(
                value=row["value"].strip(),
                number=reference_ranges.parse_number(row["value"]),
                at=at,
                flag=assessment.flag if assessment else None,
                visit_id=row["visit_id"],
            )
        )
    latest_row, latest_at = points[-1]
    assessment = assess(patient, latest_row, latest_at)
    previous = history[-2].number if len(history) > 1 else None
    return LabEntry(
        key=key,
        code=latest_row["indicator_code"] or "",
        name=latest_row["indicator_name"]
        or latest_row["service_line__name"]
        or latest_row["service_code"]
        or key,
        value=latest_row["value"].strip(),
        unit=latest_row["unit"] or "",
        flag=assessment.flag if assessment else None,
        reference=assessment.range_text if assessment else "",
        result_at=latest_at,
        trend=trend_of(previous, history[-1].number) if len(history) > 1 else None,
        history=tuple(history),
        source=by_id[latest_row["visit_id"]].source,
    )


def _procedures(ids: QuerySet[Any], by_id: dict[int, VisitRow], scope: Scope) -> list[ProcedureEntry]:
    rows = (
        ServiceLine.objects.filter(
            visit_id__in=ids, category__in=(ServiceCategory.SURGERY, ServiceCategory.PROCEDURE)
        )
        .order_by("visit_id", "line_no", "id")
        .values(
            "visit_id",
            "category",
            "service_code",
            "name",
            "procedure_codes",
            "performed_at",
            "ordered_at",
            "anaesthesia",
        )
    )
    found = []
    for row in rows:
        if not allows_result(scope, row["name"], row["service_code"]):
            continue
        visit = by_id[row["visit_id"]]
        found.append(
            ProcedureEntry(
                category=row["category"],
                name=row["name"] or row["service_code"] or "",
                code=row["service_code"] or "",
                procedure_codes=row["procedure_codes"] or "",
                performed_at=row["performed_at"] or row["ordered_at"] or visit.admitted_at,
                anaesthesia=labels.anaesthesia(row["anaesthesia"]),
                source=visit.source,
            )
        )
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    # Surgeries first, then procedures; newest first within each.
    found.sort(key=lambda p: (p.category != ServiceCategory.SURGERY, -(p.performed_at or epoch).timestamp()))
    return found


def _appointments(
    ids: QuerySet[Any], visits: Sequence[VisitRow], by_id: dict[int, VisitRow], scope: Scope, today: dt.date
) -> tuple[list[AppointmentEntry], list[ReferralEntry]]:
    slips = list(
        FollowUp.objects.filter(visit_id__in=ids).values_list(
            "visit_id", "appointment_at", "diagnosis", "main_icd", "secondary_icds", "slip_number"
        )
    )
    papers = list(
        Referral.objects.filter(visit_id__in=ids).values_list(
            "visit_id",
            "paper_number",
            "to_facility_code",
            "diagnosis",
            "main_icd",
            "secondary_icds",
            "reason_code",
            "recommended_treatment",
        )
    )
    wanted = {p[2] for p in papers if p[2]}
    names = dict(Facility.objects.filter(code__in=wanted).values_list("code", "name")) if wanted else {}

    follow_ups = []
    with_slip = set()
    for visit_id, at, diagnosis, main_icd, secondary, slip_number in slips:
        with_slip.add(visit_id)
        day = local_date(at)
        if day is None or day < today:
            continue
        visit = by_id[visit_id]
        follow_ups.append(
            AppointmentEntry(
                at=at,
                date=day,
                diagnosis="" if hides_document(main_icd, secondary, scope) else (diagnosis or ""),
                facility_code=visit.facility_code,
                facility_name=visit.facility_name,
                slip_number=slip_number or "",
                from_slip=True,
                source=visit.source,
            )
        )
    for visit in visits:
        if visit.id in with_slip or visit.follow_up_on is None or visit.follow_up_on < today:
            continue
        follow_ups.append(
            AppointmentEntry(
                at=None,
                date=visit.follow_up_on,
                diagnosis=main_diagnosis_text(visit, scope)[1],
                facility_code=visit.facility_code,
                facility_name=visit.facility_name,
                slip_number="",
                from_slip=False,
                source=visit.source,
            )
        )
    follow_ups.sort(key=lambda a: (a.date, a.source.id))

    referrals = []
    horizon = today - dt.timedelta(days=REFERRAL_WINDOW_DAYS)
    for visit_id, paper, to_code, diagnosis, main_icd, secondary, reason, treatment in papers:
        visit = by_id[visit_id]
        day = local_date(visit.discharged_at or visit.admitted_at)
        if not to_code or (day is not None and day < horizon):
            continue
        # Followed when a later visit at the destination exists in the book.
        followed = any(
            other.facility_code == to_code
            and other.date is not None
            and day is not None
            and other.date >= day
            for other in visits
            if other.id != visit_id
        )
        if followed:
            continue
        referrals.append(
            ReferralEntry(
                paper_number=paper or "",
                to_facility_code=to_code,
                to_facility_name=names.get(to_code, ""),
                diagnosis="" if hides_document(main_icd, secondary, scope) else (diagnosis or ""),
                reason=labels.referral_reason(reason),
                recommended_treatment=treatment or "",
                date=day,
                source=visit.source,
            )
        )
    referrals.sort(key=lambda r: r.date or dt.date.min, reverse=True)
    return follow_ups, referrals


def _new_visits(visits: Sequence[VisitRow], scope: Scope, since: dt.datetime | None) -> list[NewVisit]:
    if since is None:
        return []
    found = []
    for visit in visits:
        if visit.arrived_at <= since:
            continue
        code, text = main_diagnosis_text(visit, scope)
        found.append(
            NewVisit(
                source=visit.source,
                arrived_at=visit.arrived_at,
                visit_type=visit.visit_type,
                main_icd=code,
                main_diagnosis=text,
            )
        )
    found.sort(key=lambda n: n.arrived_at, reverse=True)
    return found
