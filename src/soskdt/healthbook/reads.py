"""The reads of a book's content, each checked, logged and served with a fixed number of queries.

Every function here is one transaction: it takes the viewer's access to the book (``selectors.book_access``
with the book row locked), checks the book is open and the channel's passcode gate, reads with a
fixed number of queries whatever the number of visits or lines (no N+1; year lists use the
``(citizen, visit_year, admitted_at)`` index), and writes one access-log row before it returns. If
anything fails, nothing is returned and no row is written. Pages, the API and the PDF all read here.

Reads that the API serves with an ETag take ``if_none_match``: when it matches, the function skips
the rest of the reading and returns ``Read(etag, None)`` (still logged, as a read it is).

Every read also honours the reader's ``Scope`` (``access.scope``): the owner and representatives read with
``Scope.full()``; a clinician reads through a ``grant`` (``selectors.StaffGrant``, made by ``sharing``)
whose scope limits the years, the tabs (categories) and hides HIV-related items unless the citizen
included them: visits with an HIV diagnosis code (main or secondary) or an XML6 table are left out in
the query; antiretroviral drug lines and HIV test lines/results are dropped as the lines are read (no
extra query). A read outside the scope is ``NotFound``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from soskdt.core.errors import DomainError, NotFound
from soskdt.healthbook import book as book_services
from soskdt.healthbook import labels, reference_ranges
from soskdt.healthbook.access import AccessContext, record_access
from soskdt.healthbook.models import (
    ClinicalNote,
    DischargePaper,
    DrugLine,
    FollowUp,
    RawDocument,
    RecordSummary,
    Referral,
    Result,
    ServiceCategory,
    ServiceLine,
    Visit,
)
from soskdt.healthbook.scope import Scope, is_arv_drug, is_hiv_test
from soskdt.healthbook.selectors import BookAccess, StaffGrant, Who, book_access, visible_visits
from soskdt.registry.models import Facility

T = TypeVar("T")

# Bump when what a read returns changes shape, so that clients' cached copies (ETags) expire.
RENDER_VERSION = "1"
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class TabSpec:
    """A tab of the book (letter 310, Appendix 2, step 4) and the lines it shows."""

    key: str
    slug: str
    label: Promise
    categories: tuple[str, ...]  # service-line categories; empty for the drugs tab
    empty: Promise

    @property
    def action(self) -> str:
        return f"tab.{self.key}"

    @property
    def is_drugs(self) -> bool:
        return not self.categories


TABS: dict[str, TabSpec] = {
    spec.key: spec
    for spec in (
        TabSpec(
            "lab",
            "xet-nghiem",
            _("Xét nghiệm"),
            (ServiceCategory.LAB, ""),
            _("Không có kết quả xét nghiệm."),
        ),
        TabSpec(
            "imaging",
            "chan-doan-hinh-anh",
            _("Chẩn đoán hình ảnh"),
            (ServiceCategory.IMAGING,),
            _("Không có kết quả chẩn đoán hình ảnh."),
        ),
        TabSpec(
            "functional",
            "tham-do-chuc-nang",
            _("Thăm dò chức năng"),
            (ServiceCategory.FUNCTIONAL,),
            _("Không có kết quả thăm dò chức năng."),
        ),
        TabSpec("drugs", "thuoc-da-dieu-tri", _("Thuốc đã điều trị"), (), _("Không có thuốc.")),
        TabSpec(
            "procedures",
            "phau-thuat-thu-thuat",
            _("Phẫu thuật, thủ thuật"),
            (ServiceCategory.SURGERY, ServiceCategory.PROCEDURE),
            _("Không có phẫu thuật, thủ thuật."),
        ),
    )
}
TAB_BY_SLUG: dict[str, TabSpec] = {spec.slug: spec for spec in TABS.values()}
# Categories whose lines the PDF prints with their results.
_PDF_CATEGORIES = (
    ServiceCategory.LAB,
    "",
    ServiceCategory.IMAGING,
    ServiceCategory.FUNCTIONAL,
    ServiceCategory.SURGERY,
    ServiceCategory.PROCEDURE,
)


def tab(key: str) -> TabSpec:
    found = TABS.get(key) or TAB_BY_SLUG.get(key)
    if found is None:
        raise NotFound()
    return found


# --- what the reads return ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Read(Generic[T]):
    """A read's result with its weak ETag; ``data`` is None when the client's copy is current."""

    etag: str
    data: T | None

    @property
    def not_modified(self) -> bool:
        return self.data is None


@dataclass(frozen=True, slots=True)
class YearCount:
    year: int
    visits: int


@dataclass(frozen=True, slots=True)
class BookHome:
    access: BookAccess
    years: list[YearCount]
    last_synced_at: dt.datetime | None

    @property
    def visits(self) -> int:
        return sum(y.visits for y in self.years)


@dataclass(frozen=True, slots=True)
class VisitSummary:
    """One line of the list of visits: facility, dates, visit type, main diagnosis."""

    id: int
    version: int
    year: int | None
    facility_code: str
    facility_name: str
    admitted_at: dt.datetime | None
    discharged_at: dt.datetime | None
    visit_type: str
    main_icd: str
    main_diagnosis: str

    @property
    def visit_type_label(self) -> str:
        return labels.visit_type(self.visit_type)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


@dataclass(frozen=True, slots=True)
class Diagnosis:
    code: str
    text: str
    main: bool


@dataclass(frozen=True, slots=True)
class DrugItem:
    line_no: int
    code: str
    name: str
    strength: str
    dosage_form: str
    unit: str
    quantity: Decimal | None
    dose: str
    usage: str
    route_code: str
    ordered_at: dt.datetime | None
    administered_at: dt.datetime | None

    @property
    def route_label(self) -> str:
        return labels.route(self.route_code)


@dataclass(frozen=True, slots=True)
class ResultItem:
    line_no: int
    service_line_id: int | None
    indicator_code: str
    name: str
    value: str
    unit: str
    description: str
    conclusion: str
    result_at: dt.datetime | None
    flag: str | None = None  # "high" | "low"; None when normal or no range is known
    reference: str = ""  # the range when known ("3,9 – 6,4")

    @property
    def has_range(self) -> bool:
        return bool(self.reference)


@dataclass(slots=True)
class ServiceItem:
    id: int
    line_no: int
    code: str
    name: str
    category: str
    quantity: Decimal | None
    unit: str
    ordered_at: dt.datetime | None
    performed_at: dt.datetime | None
    result_at: dt.datetime | None
    procedure_codes: str
    anaesthesia: int | None
    results: list[ResultItem] = field(default_factory=list)

    @property
    def category_label(self) -> str:
        return labels.category(self.category)

    @property
    def anaesthesia_label(self) -> str:
        return labels.anaesthesia(self.anaesthesia)


@dataclass(slots=True)
class VisitItems:
    """The lines of one visit for one tab (or for the PDF): services with their results, or drugs."""

    visit: VisitSummary
    services: list[ServiceItem] = field(default_factory=list)
    drugs: list[DrugItem] = field(default_factory=list)
    other_results: list[ResultItem] = field(default_factory=list)  # results with no service line

    @property
    def is_empty(self) -> bool:
        return not (self.services or self.drugs or self.other_results)


@dataclass(frozen=True, slots=True)
class YearVisits:
    access: BookAccess
    year: int
    page: Page[VisitSummary]


@dataclass(frozen=True, slots=True)
class TabContent:
    access: BookAccess
    tab: TabSpec
    groups: list[VisitItems]
    year: int | None = None
    page: Page[VisitSummary] | None = None  # across a year: the visits of this page

    @property
    def is_empty(self) -> bool:
        return all(group.is_empty for group in self.groups)


@dataclass(frozen=True, slots=True)
class VisitDetail:
    """*Chi tiết đợt khám*: the visit as sent, its diagnoses, drugs, notes and papers."""

    access: BookAccess
    visit: Visit
    summary: VisitSummary
    diagnoses: list[Diagnosis]
    drugs: list[DrugItem]
    notes: list[ClinicalNote]
    discharge_paper: DischargePaper | None
    record_summary: RecordSummary | None
    referral: Referral | None
    follow_up: FollowUp | None
    facility_names: dict[str, str]
    items: VisitItems | None = None  # services and results, read for the PDF only

    @property
    def outcome_label(self) -> str:
        return labels.outcome(self.visit.outcome)

    @property
    def discharge_type_label(self) -> str:
        return labels.discharge_type(self.visit.discharge_type)

    def facility_name(self, code: str | None) -> str:
        return self.facility_names.get(code or "", "")


@dataclass(frozen=True, slots=True)
class PdfFile:
    content: bytes
    filename: str


# --- the reading transaction ---------------------------------------------------------------------------


@contextmanager
def _reading(
    *,
    viewer: Any,
    who: Who,
    gate: book_services.Gate,
    context: AccessContext,
    action: str,
    target: str,
    grant: StaffGrant | None = None,
) -> Iterator[BookAccess]:
    """Open a read: access checked, book row locked, book open and unlocked; log it on the way out.

    With a ``grant`` (a clinician), the grant replaces the level-2 check, the read is logged with the
    grant's facility, and the grant hears of the logged row (``on_read``: the citizen's notice).
    """
    with transaction.atomic():
        access = book_access(viewer, who, for_update=True, grant=grant)
        if grant is None:
            book_services.require_level2(viewer)
        else:
            context = dataclasses.replace(context, facility_id=grant.facility_id)
        book_services.require_open(access)
        if not gate(access):
            raise DomainError(book_services.BOOK_LOCKED, status=401)
        yield access
        row = record_access(
            book=access.book,
            actor_id=viewer.pk,
            actor_kind=access.actor_kind,
            action=action,
            target=target,
            context=context,
            lock=False,
        )
        if grant is not None:
            grant.on_read(row)


# --- the scope -----------------------------------------------------------------------------------------

# B20–B24 HIV disease, Z21 asymptomatic HIV infection, R75 inconclusive HIV test, O98.7 HIV in pregnancy.
_HIV_ICD_PREFIXES = ("B20", "B21", "B22", "B23", "B24", "Z21", "R75", "O98.7")


def hiv_visit_filter() -> Q:
    """Visits that are HIV-related: an HIV code (main or secondary, the safer reading) or an XML6 table."""
    found = Q(Exists(RawDocument.objects.filter(visit_id=OuterRef("pk"), table="XML6")))
    for prefix in _HIV_ICD_PREFIXES:
        found |= Q(main_icd__istartswith=prefix) | Q(secondary_icds__icontains=prefix)
    return found


def scoped_visits(access: BookAccess) -> QuerySet[Visit]:
    """The visits this reader may see: the book's visible visits within the scope's years and HIV rule."""
    visits = visible_visits(access.book)
    scope = access.scope
    if scope.years is not None:
        visits = visits.filter(visit_year__in=sorted(scope.years))
    if not scope.include_hiv:
        visits = visits.exclude(hiv_visit_filter())
    return visits


def _require_category(access: BookAccess, category: str) -> None:
    if not access.scope.allows_category(category):
        raise NotFound()


def _require_year(access: BookAccess, year: int) -> None:
    if not access.scope.allows_year(year):
        raise NotFound()


def _require_tab(access: BookAccess, spec: TabSpec) -> None:
    if not access.scope.allows_tab(spec.key):
        raise NotFound()


def allowed_tabs(scope: Scope) -> list[TabSpec]:
    """The tabs a reader with ``scope`` may open, in the book's order."""
    return [spec for spec in TABS.values() if scope.allows_tab(spec.key)]


def _scope_key(access: BookAccess) -> object:
    # Owners' ETags stay as they were; a scoped reader's differ with the scope.
    return None if access.grant is None else repr(access.scope.as_dict())


def _scope_extra(access: BookAccess) -> tuple[object, ...]:
    key = _scope_key(access)
    return () if key is None else (key,)


def _shown_summary(access: BookAccess, summary: VisitSummary) -> VisitSummary:
    if access.scope.allows_category("visits"):
        return summary
    return dataclasses.replace(summary, main_icd="", main_diagnosis="")


def _etag(*parts: object) -> str:
    digest = hashlib.sha256(repr((RENDER_VERSION, *parts)).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of ``If-None-Match`` with ``etag`` (``*`` matches anything)."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def _page_bounds(page: int, page_size: int) -> tuple[int, int]:
    page = max(1, int(page))
    size = min(max(1, int(page_size)), MAX_PAGE_SIZE)
    return page, size


# --- rows to items -------------------------------------------------------------------------------------

_LIST_FIELDS = (
    "id",
    "version",
    "visit_year",
    "facility_code",
    "facility__name",
    "admitted_at",
    "discharged_at",
    "visit_type",
    "main_icd",
    "discharge_diagnosis",
)


def _first_diagnosis(text: str | None) -> str:
    return (text or "").split(";")[0].strip()


def _summary(row: Sequence[Any]) -> VisitSummary:
    pk, version, year, code, name, admitted, discharged, visit_type, main_icd, diagnosis = row
    return VisitSummary(
        id=pk,
        version=version,
        year=year,
        facility_code=code,
        facility_name=name or "",
        admitted_at=admitted,
        discharged_at=discharged,
        visit_type=visit_type or "",
        main_icd=main_icd or "",
        main_diagnosis=_first_diagnosis(diagnosis),
    )


def _summary_of(visit: Visit) -> VisitSummary:
    return _summary(
        (
            visit.pk,
            visit.version,
            visit.visit_year,
            visit.facility_code,
            visit.facility.name,
            visit.admitted_at,
            visit.discharged_at,
            visit.visit_type,
            visit.main_icd,
            visit.discharge_diagnosis,
        )
    )


def diagnoses_of(visit: Visit) -> list[Diagnosis]:
    """*Chẩn đoán xác định khi ra viện*: the main code first, then the secondary ones, each with its text.

    QĐ 130 writes the discharge diagnosis as text, main disease first, ``;`` between diseases, in the
    order of the codes: the n-th text goes with the n-th code.
    """
    codes = [visit.main_icd.strip()] if visit.main_icd else []
    codes += visit.secondary_icd_list
    texts = [part.strip() for part in (visit.discharge_diagnosis or "").split(";") if part.strip()]
    found = [
        Diagnosis(code=code, text=texts[i] if i < len(texts) else "", main=i == 0 and bool(visit.main_icd))
        for i, code in enumerate(codes)
    ]
    found += [
        Diagnosis(code="", text=text, main=not codes and i == 0) for i, text in enumerate(texts[len(codes) :])
    ]
    return found


def _drug(line: DrugLine) -> DrugItem:
    return DrugItem(
        line_no=line.line_no,
        code=line.drug_code or "",
        name=line.name or line.drug_code or "",
        strength=line.strength or "",
        dosage_form=line.dosage_form or "",
        unit=line.unit or "",
        quantity=line.quantity,
        dose=line.dose or "",
        usage=line.usage or "",
        route_code=line.route_code or "",
        ordered_at=line.ordered_at,
        administered_at=line.administered_at,
    )


def _service(line: ServiceLine) -> ServiceItem:
    return ServiceItem(
        id=line.pk,
        line_no=line.line_no,
        code=line.service_code or line.supply_code or "",
        name=line.name or line.supply_name or line.service_code or "",
        category=line.category,
        quantity=line.quantity,
        unit=line.unit or "",
        ordered_at=line.ordered_at,
        performed_at=line.performed_at,
        result_at=line.result_at,
        procedure_codes=line.procedure_codes or "",
        anaesthesia=line.anaesthesia,
    )


@dataclass(frozen=True, slots=True)
class _Patient:
    sex: str | None
    birth: Any  # PartialDate

    def age_at(self, moment: dt.datetime | None) -> int | None:
        if moment is None:
            return None
        return int(self.birth.age_on(timezone.localtime(moment).date()))


def _result(row: Result, patient: _Patient, at: dt.datetime | None) -> ResultItem:
    assessment = reference_ranges.assess(
        code=row.indicator_code,
        name=row.indicator_name,
        value=row.value,
        unit=row.unit,
        sex=patient.sex,
        age=patient.age_at(at),
    )
    return ResultItem(
        line_no=row.line_no,
        service_line_id=row.service_line_id,
        indicator_code=row.indicator_code or "",
        name=row.indicator_name or row.service_code or "",
        value=row.value or "",
        unit=row.unit or "",
        description=row.description or "",
        conclusion=row.conclusion or "",
        result_at=row.result_at,
        flag=assessment.flag if assessment else None,
        reference=assessment.range_text if assessment else "",
    )


_SERVICE_FIELDS = (
    "id",
    "visit_id",
    "line_no",
    "service_code",
    "supply_code",
    "name",
    "supply_name",
    "category",
    "quantity",
    "unit",
    "ordered_at",
    "performed_at",
    "result_at",
    "procedure_codes",
    "anaesthesia",
)
_RESULT_FIELDS = (
    "id",
    "visit_id",
    "line_no",
    "service_line_id",
    "service_code",
    "indicator_code",
    "indicator_name",
    "value",
    "unit",
    "description",
    "conclusion",
    "result_at",
)
_DRUG_FIELDS = (
    "id",
    "visit_id",
    "line_no",
    "drug_code",
    "name",
    "strength",
    "dosage_form",
    "unit",
    "quantity",
    "dose",
    "usage",
    "route_code",
    "ordered_at",
    "administered_at",
)


def _group_items(
    visits: list[VisitSummary],
    *,
    services: QuerySet[ServiceLine] | None,
    results: QuerySet[Result] | None,
    drugs: QuerySet[DrugLine] | None,
    patient: _Patient,
    scope: Scope | None = None,
) -> list[VisitItems]:
    """Put lines under their visits and results under their service lines (one query per table).

    Without HIV consent in ``scope``, HIV test lines (and their results) and antiretroviral drugs are
    dropped here, as they are read.
    """
    hide_hiv = scope is not None and not scope.include_hiv
    groups = {v.id: VisitItems(v) for v in visits}
    lines: dict[int, ServiceItem] = {}
    hidden_lines: set[int] = set()
    if services is not None:
        for line in services.only(*_SERVICE_FIELDS).order_by("visit_id", "line_no", "id"):
            if hide_hiv and is_hiv_test(line.name, line.service_code):
                hidden_lines.add(line.pk)
                continue
            item = _service(line)
            lines[item.id] = item
            groups[line.visit_id].services.append(item)
    if results is not None:
        for row in results.only(*_RESULT_FIELDS).order_by("visit_id", "line_no", "id"):
            if hide_hiv and (row.service_line_id in hidden_lines or is_hiv_test(row.indicator_name)):
                continue
            group = groups[row.visit_id]
            parent = lines.get(row.service_line_id) if row.service_line_id else None
            result = _result(row, patient, row.result_at or group.visit.admitted_at)
            (parent.results if parent is not None else group.other_results).append(result)
    if drugs is not None:
        for drug in drugs.only(*_DRUG_FIELDS).order_by("visit_id", "line_no", "id"):
            if hide_hiv and is_arv_drug(drug.name, drug.drug_code):
                continue
            groups[drug.visit_id].drugs.append(_drug(drug))
    return [groups[v.id] for v in visits]


def _tab_items(
    spec: TabSpec, visits: list[VisitSummary], patient: _Patient, scope: Scope | None = None
) -> list[VisitItems]:
    ids = [v.id for v in visits]
    if spec.is_drugs:
        return _group_items(
            visits,
            services=None,
            results=None,
            drugs=DrugLine.objects.filter(visit_id__in=ids),
            patient=patient,
            scope=scope,
        )
    return _group_items(
        visits,
        services=ServiceLine.objects.filter(visit_id__in=ids, category__in=spec.categories),
        results=Result.objects.filter(visit_id__in=ids, category__in=spec.categories),
        drugs=None,
        patient=patient,
        scope=scope,
    )


def _patient(access: BookAccess) -> _Patient:
    return _Patient(access.citizen.sex, access.citizen.birth_date)


# --- the reads ------------------------------------------------------------------------------------------


def _years(access: BookAccess) -> list[YearCount]:
    rows = (
        scoped_visits(access)
        .filter(visit_year__isnull=False)
        .values("visit_year")
        .annotate(n=Count("id"))
        .order_by("-visit_year")
        .values_list("visit_year", "n")
    )
    return [YearCount(year, n) for year, n in rows]


def open_book(
    *,
    viewer: Any,
    who: Who,
    gate: book_services.Gate,
    context: AccessContext,
    grant: StaffGrant | None = None,
) -> BookHome:
    """The book's home (*Hồ sơ sức khỏe điện tử*): last sync and the years that have visits."""
    with _reading(
        viewer=viewer, who=who, gate=gate, context=context, action="book.open", target="", grant=grant
    ) as access:
        return BookHome(access, _years(access), access.book.last_synced_at)


def years(
    *,
    viewer: Any,
    who: Who,
    gate: book_services.Gate,
    context: AccessContext,
    if_none_match: str | None = None,
    grant: StaffGrant | None = None,
) -> Read[BookHome]:
    """*Năm*: only the years that have visits, newest first (logged as ``book.open``)."""
    with _reading(
        viewer=viewer, who=who, gate=gate, context=context, action="book.open", target="", grant=grant
    ) as access:
        found = _years(access)
        etag = _etag(
            "years",
            access.citizen.pk,
            access.book.last_synced_at,
            [(y.year, y.visits) for y in found],
            *_scope_extra(access),
        )
        if etag_matches(if_none_match, etag):
            return Read(etag, None)
        return Read(etag, BookHome(access, found, access.book.last_synced_at))


def visits_for_year(
    *,
    viewer: Any,
    who: Who,
    year: int,
    page: int = 1,
    page_size: int = 20,
    gate: book_services.Gate,
    context: AccessContext,
    if_none_match: str | None = None,
    grant: StaffGrant | None = None,
) -> Read[YearVisits]:
    """The visits of one year, newest first, a page at a time (two queries on the book index)."""
    page, page_size = _page_bounds(page, page_size)
    with _reading(
        viewer=viewer,
        who=who,
        gate=gate,
        context=context,
        action="visits.year",
        target=f"year:{year}",
        grant=grant,
    ) as access:
        _require_year(access, year)
        visits = scoped_visits(access).filter(visit_year=year)
        total = visits.count()
        start = (page - 1) * page_size
        rows = visits.order_by("-admitted_at", "-id").values_list(*_LIST_FIELDS)[start : start + page_size]
        items = [_shown_summary(access, _summary(row)) for row in rows]
        etag = _etag(
            "year",
            access.citizen.pk,
            access.book.last_synced_at,
            year,
            page,
            page_size,
            total,
            [(v.id, v.version) for v in items],
            *_scope_extra(access),
        )
        if etag_matches(if_none_match, etag):
            return Read(etag, None)
        return Read(etag, YearVisits(access, year, Page(items, page, page_size, total)))


def _visible_visit(access: BookAccess, visit_id: int, *, related: bool) -> Visit:
    visits = scoped_visits(access).filter(pk=visit_id)
    if related:
        visits = visits.select_related(
            "facility", "discharge_paper", "record_summary", "referral", "follow_up"
        )
    else:
        visits = visits.select_related("facility").only("facility", *_LIST_FIELDS, "citizen_id", "linked_at")
    visit = visits.first()
    if visit is None:
        raise NotFound()
    return visit


def _document(visit: Visit, name: str) -> Any:
    try:
        return getattr(visit, name)
    except (
        DischargePaper.DoesNotExist,
        RecordSummary.DoesNotExist,
        Referral.DoesNotExist,
        FollowUp.DoesNotExist,
    ):
        return None


def _detail(access: BookAccess, visit: Visit, *, with_items: bool) -> VisitDetail:
    summary = _summary_of(visit)
    referral = _document(visit, "referral")
    codes = {visit.referred_from, visit.referred_to, *(visit.primary_care_codes or "").split(";")}
    if referral is not None:
        codes |= {referral.from_facility_code, referral.to_facility_code}
    wanted = {code.strip() for code in codes if code and code.strip()} - {visit.facility_code}
    names = dict(Facility.objects.filter(code__in=wanted).values_list("code", "name")) if wanted else {}
    names[visit.facility_code] = visit.facility.name
    patient = _patient(access)
    scope = access.scope
    hide_hiv = not scope.include_hiv
    items = None
    if with_items:
        categories = [
            c
            for c in _PDF_CATEGORIES
            if any(c in spec.categories and scope.allows_tab(spec.key) for spec in TABS.values())
        ]
        results = Result.objects.filter(visit_id=visit.pk)
        if len(categories) < len(_PDF_CATEGORIES):
            results = results.filter(category__in=categories)
        items = _group_items(
            [summary],
            services=ServiceLine.objects.filter(visit_id=visit.pk, category__in=categories),
            results=results,
            drugs=None,
            patient=patient,
            scope=scope,
        )[0]
    drugs = []
    if scope.allows_category("drugs"):
        drugs = [
            _drug(d)
            for d in DrugLine.objects.filter(visit_id=visit.pk).only(*_DRUG_FIELDS).order_by("line_no", "id")
            if not (hide_hiv and is_arv_drug(d.name, d.drug_code))
        ]
    notes = list(ClinicalNote.objects.filter(visit_id=visit.pk).order_by("line_no", "id"))
    return VisitDetail(
        access=access,
        visit=visit,
        summary=summary,
        diagnoses=diagnoses_of(visit),
        drugs=drugs,
        notes=notes,
        discharge_paper=_document(visit, "discharge_paper"),
        record_summary=_document(visit, "record_summary"),
        referral=referral,
        follow_up=_document(visit, "follow_up"),
        facility_names=names,
        items=items,
    )


def _visit_etag(kind: str, access: BookAccess, visit: Visit, *extra: object) -> str:
    return _etag(
        kind,
        access.citizen.pk,
        access.citizen.sex,
        access.citizen.birth_date.isoformat(),
        access.book.last_synced_at,
        visit.pk,
        visit.version,
        *extra,
        *_scope_extra(access),
    )


def visit_detail(
    *,
    viewer: Any,
    who: Who,
    visit_id: int,
    gate: book_services.Gate,
    context: AccessContext,
    if_none_match: str | None = None,
    grant: StaffGrant | None = None,
) -> Read[VisitDetail]:
    """*Chi tiết đợt khám*: at most five queries for the content, whatever the number of lines."""
    with _reading(
        viewer=viewer,
        who=who,
        gate=gate,
        context=context,
        action="visit.detail",
        target=f"visit:{visit_id}",
        grant=grant,
    ) as access:
        _require_category(access, "visits")
        visit = _visible_visit(access, visit_id, related=True)
        etag = _visit_etag("visit", access, visit)
        if etag_matches(if_none_match, etag):
            return Read(etag, None)
        return Read(etag, _detail(access, visit, with_items=False))


def visit_tab(
    *,
    viewer: Any,
    who: Who,
    visit_id: int,
    tab_key: str,
    gate: book_services.Gate,
    context: AccessContext,
    if_none_match: str | None = None,
    grant: StaffGrant | None = None,
) -> Read[TabContent]:
    """One tab of one visit: its service lines of the tab's categories with their results, or its drugs."""
    spec = tab(tab_key)
    with _reading(
        viewer=viewer,
        who=who,
        gate=gate,
        context=context,
        action=spec.action,
        target=f"visit:{visit_id}",
        grant=grant,
    ) as access:
        _require_tab(access, spec)
        visit = _visible_visit(access, visit_id, related=False)
        etag = _visit_etag(spec.key, access, visit)
        if etag_matches(if_none_match, etag):
            return Read(etag, None)
        summary = _shown_summary(access, _summary_of(visit))
        groups = _tab_items(spec, [summary], _patient(access), access.scope)
        return Read(etag, TabContent(access, spec, groups, year=visit.visit_year))


def year_tab(
    *,
    viewer: Any,
    who: Who,
    year: int,
    tab_key: str,
    page: int = 1,
    page_size: int = 10,
    gate: book_services.Gate,
    context: AccessContext,
    if_none_match: str | None = None,
    grant: StaffGrant | None = None,
) -> Read[TabContent]:
    """One tab across the visits of a year, a page of visits at a time (only visits with such lines)."""
    spec = tab(tab_key)
    page, page_size = _page_bounds(page, page_size)
    with _reading(
        viewer=viewer,
        who=who,
        gate=gate,
        context=context,
        action=spec.action,
        target=f"year:{year}",
        grant=grant,
    ) as access:
        _require_year(access, year)
        _require_tab(access, spec)
        lines: QuerySet[Any]
        if spec.is_drugs:
            lines = DrugLine.objects.filter(visit_id=OuterRef("pk"))
        else:
            lines = ServiceLine.objects.filter(visit_id=OuterRef("pk"), category__in=spec.categories)
        visits = scoped_visits(access).filter(Exists(lines), visit_year=year)
        total = visits.count()
        start = (page - 1) * page_size
        rows = visits.order_by("-admitted_at", "-id").values_list(*_LIST_FIELDS)[start : start + page_size]
        summaries = [_shown_summary(access, _summary(row)) for row in rows]
        etag = _etag(
            "year-tab",
            spec.key,
            access.citizen.pk,
            access.citizen.sex,
            access.book.last_synced_at,
            year,
            page,
            page_size,
            total,
            [(v.id, v.version) for v in summaries],
            *_scope_extra(access),
        )
        if etag_matches(if_none_match, etag):
            return Read(etag, None)
        groups = _tab_items(spec, summaries, _patient(access), access.scope) if summaries else []
        return Read(
            etag, TabContent(access, spec, groups, year=year, page=Page(summaries, page, page_size, total))
        )


def visit_pdf(
    *,
    viewer: Any,
    who: Who,
    visit_id: int,
    gate: book_services.Gate,
    context: AccessContext,
    grant: StaffGrant | None = None,
) -> PdfFile:
    """The visit as an A4 PDF (QĐ 31/QĐ-BYT), made on request inside the logged read."""
    from soskdt.healthbook.pdf import render_visit_pdf

    with _reading(
        viewer=viewer,
        who=who,
        gate=gate,
        context=context,
        action="visit.pdf",
        target=f"visit:{visit_id}",
        grant=grant,
    ) as access:
        _require_category(access, "visits")
        visit = _visible_visit(access, visit_id, related=True)
        detail = _detail(access, visit, with_items=True)
        content = render_visit_pdf(detail, generated_at=timezone.now())
        day = timezone.localtime(visit.admitted_at).strftime("%Y%m%d") if visit.admitted_at else "0"
        return PdfFile(content, f"so-suc-khoe-{day}-{visit.facility_code}-{visit.pk}.pdf")
