"""The reads of a book's content, each checked, logged and served with a fixed number of queries.

Every read costs two round trips to the database whatever the number of visits or lines: one query
takes the viewer's access to the book (``selectors.book_access``, with the API's book token and the
head of the access-log chain), then one batch of hand-written SQL (``core.sqlbatch``) appends the
access-log row and reads the content, as one transaction: the row commits with the read or neither
does (docs/decisions/0005-book-read-path.md). Year lists use the ``(citizen, visit_year, admitted_at)``
index. Pages, the API and the PDF all read here.

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
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from soskdt.core import sqlbatch
from soskdt.core.errors import DomainError, NotFound
from soskdt.core.sqlbatch import Loader, Statement
from soskdt.core.sqlbatch import Result as Rows
from soskdt.healthbook import book as book_services
from soskdt.healthbook import labels, reference_ranges
from soskdt.healthbook.access import AccessContext, chain_retry, new_row
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

#: Reads of one book racing each other for the end of its access-log chain retry this many times.
CHAIN_RETRIES = 5


@dataclass(frozen=True, slots=True)
class _Plan(Generic[T]):
    """What one read asks of the database, and how its answer is made from the rows.

    ``statements`` run in one batch after the access-log row (``sqlbatch.run``); ``finish`` gets their
    results in order. ``log_if`` is a condition the row needs (the visit is visible to this reader):
    when it does not hold, nothing is logged and the read is ``NotFound``.
    """

    statements: list[Statement]
    finish: Callable[[list[Rows]], T]
    log_if: Statement | None = None


def _open(*, viewer: Any, who: Who, gate: book_services.Gate, grant: StaffGrant | None) -> BookAccess:
    """The viewer's access to an open book whose passcode gate this request passed; else an error."""
    access = book_access(
        viewer, who, grant=grant, token_prefix=getattr(gate, "prefix", None), with_log_head=True
    )
    if grant is None:
        book_services.require_level2(viewer)
    book_services.require_open(access)
    if not gate(access):
        raise DomainError(book_services.BOOK_LOCKED, status=401)
    return access


def _logged_read(
    *,
    viewer: Any,
    who: Who,
    gate: book_services.Gate,
    context: AccessContext,
    action: str,
    target: str,
    grant: StaffGrant | None,
    plan: Callable[[BookAccess], _Plan[T]],
) -> T:
    """Run one read: access checked (one query), then the access-log row and the content in one batch.

    The batch, the making of the answer and ``COMMIT`` are one transaction (``sqlbatch.atomic``), so the
    row commits with the read or not at all, even when the answer fails to render. The row is chained after the head read with the access: if another read of the same book
    appended first, the unique (owner, prev_hash) refuses this row and the read starts again. With a
    ``grant`` (a clinician), the grant replaces the level-2 check, the read is logged with the grant's
    facility, and the grant hears of the row (``on_read``: the citizen's notice) in the same transaction.
    """
    if grant is not None:
        context = dataclasses.replace(context, facility_id=grant.facility_id)
    attempt = 0
    while True:
        attempt += 1
        try:
            with transaction.atomic() if grant is not None else nullcontext():
                access = _open(viewer=viewer, who=who, gate=gate, grant=grant)
                planned = plan(access)
                row = new_row(
                    owner_id=access.citizen.pk,
                    actor_id=viewer.pk,
                    actor_kind=access.actor_kind,
                    action=action,
                    target=target,
                    context=context,
                    prev_hash=access.log_head,
                )
                with sqlbatch.atomic() as batch:
                    logged, *results = batch.run(
                        [sqlbatch.insert(row, where=planned.log_if), *planned.statements]
                    )
                    if not logged.rows:
                        raise NotFound()
                    row.pk = logged.rows[0][0]
                    row._state.adding = False
                    value = planned.finish(results)
                    if grant is not None:
                        grant.on_read(row)
                return value
        except IntegrityError as error:
            if not chain_retry(error, attempt):
                raise


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
    """The visits this reader may see, as a queryset (``scoped_visits_sql`` is the same rule in SQL)."""
    visits = visible_visits(access.book)
    scope = access.scope
    if scope.years is not None:
        visits = visits.filter(visit_year__in=sorted(scope.years))
    if not scope.include_hiv:
        visits = visits.exclude(hiv_visit_filter())
    return visits


def _not_hiv_sql(alias: str) -> Statement:
    """``hiv_visit_filter`` negated, in SQL (the same rule; a test holds them together)."""
    parts = [
        f'NOT EXISTS (SELECT 1 FROM "healthbook_rawdocument" "r" WHERE "r"."visit_id" = "{alias}"."id" '
        'AND "r"."table" = %s)'
    ]
    params: list[Any] = ["XML6"]
    for prefix in _HIV_ICD_PREFIXES:
        parts.append(f'UPPER(COALESCE("{alias}"."main_icd", \'\')) NOT LIKE %s')
        parts.append(f'UPPER(COALESCE("{alias}"."secondary_icds", \'\')) NOT LIKE %s')
        params += [f"{prefix}%", f"%{prefix}%"]
    return Statement(" AND ".join(parts), params)


def scoped_visits_sql(access: BookAccess, alias: str = "v") -> Statement:
    """The condition on ``alias`` (a visit) for the visits this reader may see, with its parameters.

    The book's visible visits (linked to its owner and seen by a sync, ``selectors.visible_visits``)
    within the scope's years and its HIV rule.
    """
    book = access.book
    if book.pk is None or book.last_synced_at is None:
        return Statement("1 = 0")
    parts = [f'"{alias}"."citizen_id" = %s', f'"{alias}"."linked_at" <= %s']
    params: list[Any] = [book.citizen_id, connection.ops.adapt_datetimefield_value(book.last_synced_at)]
    scope = access.scope
    if scope.years is not None:
        years = sorted(scope.years)
        if not years:
            return Statement("1 = 0")
        parts.append(f'"{alias}"."visit_year" IN ({", ".join("%s" for _ in years)})')
        params += years
    if not scope.include_hiv:
        hiv = _not_hiv_sql(alias)
        parts.append(hiv.sql)
        params += hiv.params
    return Statement(" AND ".join(parts), params)


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

_SUMMARY = Loader(
    Visit,
    [
        "id",
        "version",
        "visit_year",
        "facility_code",
        "admitted_at",
        "discharged_at",
        "visit_type",
        "main_icd",
        "discharge_diagnosis",
    ],
)
#: The columns of a visit's line in the list (``_summary`` reads them), from ``_VISITS``.
_SUMMARY_COLUMNS = f'{_SUMMARY.columns("v")}, "f"."name"'
_VISITS = '"healthbook_visit" "v" INNER JOIN "registry_facility" "f" ON "f"."id" = "v"."facility_id"'
_NEWEST_FIRST = 'ORDER BY "v"."admitted_at" DESC, "v"."id" DESC'


def _first_diagnosis(text: str | None) -> str:
    return (text or "").split(";")[0].strip()


def _summary(row: Sequence[Any]) -> VisitSummary:
    pk, version, year, code, admitted, discharged, visit_type, main_icd, diagnosis = _SUMMARY.values(row)
    return VisitSummary(
        id=pk,
        version=version,
        year=year,
        facility_code=code,
        facility_name=row[len(_SUMMARY)] or "",
        admitted_at=admitted,
        discharged_at=discharged,
        visit_type=visit_type or "",
        main_icd=main_icd or "",
        main_diagnosis=_first_diagnosis(diagnosis),
    )


def _summary_of(visit: Visit, facility_name: str) -> VisitSummary:
    return VisitSummary(
        id=visit.pk,
        version=visit.version,
        year=visit.visit_year,
        facility_code=visit.facility_code,
        facility_name=facility_name or "",
        admitted_at=visit.admitted_at,
        discharged_at=visit.discharged_at,
        visit_type=visit.visit_type or "",
        main_icd=visit.main_icd or "",
        main_diagnosis=_first_diagnosis(visit.discharge_diagnosis),
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


@dataclass(frozen=True, slots=True)
class _Patient:
    sex: str | None
    birth: Any  # PartialDate

    def age_at(self, moment: dt.datetime | None) -> int | None:
        if moment is None:
            return None
        return int(self.birth.age_on(timezone.localtime(moment).date()))


_DRUG = Loader(
    DrugLine,
    [
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
    ],
)
_SERVICE = Loader(
    ServiceLine,
    [
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
    ],
)
_RESULT = Loader(
    Result,
    [
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
    ],
)
_NOTE = Loader(
    ClinicalNote,
    ["id", "visit_id", "line_no", "progress", "disease_stage", "consultation", "surgery", "noted_at"],
)
#: The visit as sent, for *Chi tiết đợt khám*; its raw extras and warnings are not shown (deferred).
_VISIT = Loader(
    Visit, [f.name for f in Visit._meta.concrete_fields if f.name not in ("raw_extras", "warnings")]
)
#: The single-record papers of a visit, joined to it: (name, model, alias).
_PAPERS: tuple[tuple[str, Loader[Any], str], ...] = (
    (
        "discharge_paper",
        Loader(DischargePaper, [f.name for f in DischargePaper._meta.concrete_fields if f.name != "extra"]),
        "dp",
    ),
    (
        "record_summary",
        Loader(RecordSummary, [f.name for f in RecordSummary._meta.concrete_fields if f.name != "extra"]),
        "rs",
    ),
    (
        "referral",
        Loader(Referral, [f.name for f in Referral._meta.concrete_fields if f.name != "extra"]),
        "rf",
    ),
    (
        "follow_up",
        Loader(FollowUp, [f.name for f in FollowUp._meta.concrete_fields if f.name != "extra"]),
        "fu",
    ),
)


def _lines(loader: Loader[Any], result: Rows) -> list[dict[str, Any]]:
    names = loader.attnames
    return [dict(zip(names, loader.values(row), strict=True)) for row in result.rows]


def _lines_sql(loader: Loader[Any], table: str, where: str) -> str:
    return f'SELECT {loader.columns("x")} FROM "{table}" "x" WHERE {where} ORDER BY "x"."visit_id", "x"."line_no", "x"."id"'


def _drug(line: dict[str, Any]) -> DrugItem:
    return DrugItem(
        line_no=line["line_no"],
        code=line["drug_code"] or "",
        name=line["name"] or line["drug_code"] or "",
        strength=line["strength"] or "",
        dosage_form=line["dosage_form"] or "",
        unit=line["unit"] or "",
        quantity=line["quantity"],
        dose=line["dose"] or "",
        usage=line["usage"] or "",
        route_code=line["route_code"] or "",
        ordered_at=line["ordered_at"],
        administered_at=line["administered_at"],
    )


def _service(line: dict[str, Any]) -> ServiceItem:
    return ServiceItem(
        id=line["id"],
        line_no=line["line_no"],
        code=line["service_code"] or line["supply_code"] or "",
        name=line["name"] or line["supply_name"] or line["service_code"] or "",
        category=line["category"],
        quantity=line["quantity"],
        unit=line["unit"] or "",
        ordered_at=line["ordered_at"],
        performed_at=line["performed_at"],
        result_at=line["result_at"],
        procedure_codes=line["procedure_codes"] or "",
        anaesthesia=line["anaesthesia"],
    )


def _result(row: dict[str, Any], patient: _Patient, at: dt.datetime | None) -> ResultItem:
    assessment = reference_ranges.assess(
        code=row["indicator_code"],
        name=row["indicator_name"],
        value=row["value"],
        unit=row["unit"],
        sex=patient.sex,
        age=patient.age_at(at),
    )
    return ResultItem(
        line_no=row["line_no"],
        service_line_id=row["service_line_id"],
        indicator_code=row["indicator_code"] or "",
        name=row["indicator_name"] or row["service_code"] or "",
        value=row["value"] or "",
        unit=row["unit"] or "",
        description=row["description"] or "",
        conclusion=row["conclusion"] or "",
        result_at=row["result_at"],
        flag=assessment.flag if assessment else None,
        reference=assessment.range_text if assessment else "",
    )


def _group_items(
    visits: list[VisitSummary],
    *,
    services: list[dict[str, Any]] = (),  # type: ignore[assignment]
    results: list[dict[str, Any]] = (),  # type: ignore[assignment]
    drugs: list[dict[str, Any]] = (),  # type: ignore[assignment]
    patient: _Patient,
    scope: Scope | None = None,
) -> list[VisitItems]:
    """Put lines under their visits and results under their service lines (rows in visit, line order).

    Without HIV consent in ``scope``, HIV test lines (and their results) and antiretroviral drugs are
    dropped here, as they are read.
    """
    hide_hiv = scope is not None and not scope.include_hiv
    groups = {v.id: VisitItems(v) for v in visits}
    lines: dict[int, ServiceItem] = {}
    hidden_lines: set[int] = set()
    for line in services:
        if hide_hiv and is_hiv_test(line["name"], line["service_code"]):
            hidden_lines.add(line["id"])
            continue
        item = _service(line)
        lines[item.id] = item
        groups[line["visit_id"]].services.append(item)
    for row in results:
        if hide_hiv and (row["service_line_id"] in hidden_lines or is_hiv_test(row["indicator_name"])):
            continue
        group = groups[row["visit_id"]]
        parent = lines.get(row["service_line_id"]) if row["service_line_id"] else None
        result = _result(row, patient, row["result_at"] or group.visit.admitted_at)
        (parent.results if parent is not None else group.other_results).append(result)
    for drug in drugs:
        if hide_hiv and is_arv_drug(drug["name"], drug["drug_code"]):
            continue
        groups[drug["visit_id"]].drugs.append(_drug(drug))
    return [groups[v.id] for v in visits]


def _in(values: Sequence[Any]) -> str:
    return f"({', '.join('%s' for _ in values)})"


def _tab_statements(spec: TabSpec, visit_ids: Statement) -> list[Statement]:
    """The lines of ``spec``'s tab for the visits ``visit_ids`` (an id, or a subquery of ids)."""
    if spec.is_drugs:
        return [
            Statement(
                _lines_sql(_DRUG, "healthbook_drugline", f'"x"."visit_id" IN ({visit_ids.sql})'),
                visit_ids.params,
            )
        ]
    categories = list(spec.categories)
    where = f'"x"."visit_id" IN ({visit_ids.sql}) AND "x"."category" IN {_in(categories)}'
    params = [*visit_ids.params, *categories]
    return [
        Statement(_lines_sql(_SERVICE, "healthbook_serviceline", where), params),
        Statement(_lines_sql(_RESULT, "healthbook_result", where), params),
    ]


def _tab_groups(
    spec: TabSpec, visits: list[VisitSummary], results: list[Rows], patient: _Patient, scope: Scope
) -> list[VisitItems]:
    if spec.is_drugs:
        return _group_items(visits, drugs=_lines(_DRUG, results[0]), patient=patient, scope=scope)
    return _group_items(
        visits,
        services=_lines(_SERVICE, results[0]),
        results=_lines(_RESULT, results[1]),
        patient=patient,
        scope=scope,
    )


def _patient(access: BookAccess) -> _Patient:
    return _Patient(access.citizen.sex, access.citizen.birth_date)


# --- the reads ------------------------------------------------------------------------------------------


def _years_plan(access: BookAccess) -> _Plan[list[YearCount]]:
    visible = scoped_visits_sql(access)
    sql = (
        f'SELECT "v"."visit_year", COUNT(*) FROM "healthbook_visit" "v" WHERE {visible.sql} '
        'AND "v"."visit_year" IS NOT NULL GROUP BY "v"."visit_year" ORDER BY "v"."visit_year" DESC'
    )
    return _Plan(
        [Statement(sql, visible.params)],
        lambda results: [YearCount(year, n) for year, n in results[0].rows],
    )


def open_book(
    *,
    viewer: Any,
    who: Who,
    gate: book_services.Gate,
    context: AccessContext,
    grant: StaffGrant | None = None,
) -> BookHome:
    """The book's home (*Hồ sơ sức khỏe điện tử*): last sync and the years that have visits."""

    def plan(access: BookAccess) -> _Plan[BookHome]:
        years_plan = _years_plan(access)
        return _Plan(
            years_plan.statements,
            lambda results: BookHome(access, years_plan.finish(results), access.book.last_synced_at),
        )

    return _logged_read(
        viewer=viewer,
        who=who,
        gate=gate,
        context=context,
        action="book.open",
        target="",
        grant=grant,
        plan=plan,
    )


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

    def plan(access: BookAccess) -> _Plan[Read[BookHome]]:
        years_plan = _years_plan(access)

        def finish(results: list[Rows]) -> Read[BookHome]:
            found = years_plan.finish(results)
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

        return _Plan(years_plan.statements, finish)

    return _logged_read(
        viewer=viewer,
        who=who,
        gate=gate,
        context=context,
        action="book.open",
        target="",
        grant=grant,
        plan=plan,
    )


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
    """The visits of one year, newest first, a page at a time (count and page on the book index)."""
    page, page_size = _page_bounds(page, page_size)

    def plan(access: BookAccess) -> _Plan[Read[YearVisits]]:
        _require_year(access, year)
        visible = scoped_visits_sql(access)
        where = f'{visible.sql} AND "v"."visit_year" = %s'
        params = [*visible.params, year]
        count = Statement(f'SELECT COUNT(*) FROM "healthbook_visit" "v" WHERE {where}', params)
        rows = Statement(
            f"SELECT {_SUMMARY_COLUMNS} FROM {_VISITS} WHERE {where} {_NEWEST_FIRST} LIMIT %s OFFSET %s",
            [*params, page_size, (page - 1) * page_size],
        )

        def finish(results: list[Rows]) -> Read[YearVisits]:
            total = results[0].rows[0][0]
            items = [_shown_summary(access, _summary(row)) for row in results[1].rows]
            etag = year_etag(
                access.citizen.pk,
                access.book.last_synced_at,
                year,
                page,
                page_size,
                total,
                items,
                *_scope_extra(access),
            )
            if etag_matches(if_none_match, etag):
                return Read(etag, None)
            return Read(etag, YearVisits(access, year, Page(items, page, page_size, total)))

        return _Plan([count, rows], finish)

    return _logged_read(
        viewer=viewer,
        who=who,
        gate=gate,
        context=context,
        action="visits.year",
        target=f"year:{year}",
        grant=grant,
        plan=plan,
    )


def year_etag(
    citizen_id: int,
    last_synced_at: dt.datetime | None,
    year: int,
    page: int,
    page_size: int,
    total: int,
    items: Sequence[VisitSummary],
    *scope: object,
) -> str:
    """The ETag of a page of a year's visits (``fastpath`` answers the same page with the same tag)."""
    return _etag(
        "year",
        citizen_id,
        last_synced_at,
        year,
        page,
        page_size,
        total,
        [(v.id, v.version) for v in items],
        *scope,
    )


def _visit_is_visible(access: BookAccess, visit_id: int) -> Statement:
    """The condition "this visit is one the reader may see", for the access-log row of a visit read."""
    visible = scoped_visits_sql(access)
    return Statement(
        f'EXISTS (SELECT 1 FROM "healthbook_visit" "v" WHERE "v"."id" = %s AND {visible.sql})',
        [visit_id, *visible.params],
    )


def _visit_summary_statement(access: BookAccess, visit_id: int) -> Statement:
    visible = scoped_visits_sql(access)
    return Statement(
        f'SELECT {_SUMMARY_COLUMNS} FROM {_VISITS} WHERE "v"."id" = %s AND {visible.sql}',
        [visit_id, *visible.params],
    )


#: PostgreSQL: the facility codes a visit names (referral ends, the card's primary-care facilities), as an
#: array, from ``"v"`` (the visit) and ``"rf"`` (its referral, outer-joined).
NAMED_FACILITY_CODES_PG = (
    'string_to_array(replace(concat_ws(\';\', "v"."referred_from", "v"."referred_to", '
    '"v"."primary_care_codes", "rf"."from_facility_code", "rf"."to_facility_code"), \' \', \'\'), \';\')'
)


def _facility_names_statement(visit_id: int) -> Statement:
    """Code and name of the facilities a visit names: referral ends, the card's primary-care facilities."""
    source = '"healthbook_visit" "v" LEFT JOIN "healthbook_referral" "rf" ON "rf"."visit_id" = "v"."id"'
    if connection.vendor == "postgresql":
        match = f'"f"."code" = ANY({NAMED_FACILITY_CODES_PG})'
    else:
        # A few facilities in the embedded database: the list is matched as text.
        joined = (
            "';' || replace(coalesce(\"v\".\"referred_from\", '') || ';' || coalesce(\"v\".\"referred_to\", '') "
            "|| ';' || coalesce(\"v\".\"primary_care_codes\", '') || ';' || coalesce(\"rf\".\"from_facility_code\", '') "
            "|| ';' || coalesce(\"rf\".\"to_facility_code\", ''), ' ', '') || ';'"
        )
        match = f"instr({joined}, ';' || \"f\".\"code\" || ';') > 0"
    sql = f'SELECT "f"."code", "f"."name" FROM "registry_facility" "f", {source} WHERE "v"."id" = %s AND {match}'
    return Statement(sql, [visit_id])


def _detail_plan(
    access: BookAccess, visit_id: int, *, with_items: bool, finish: Callable[[VisitDetail], T]
) -> _Plan[T]:
    """*Chi tiết đợt khám* (and, ``with_items``, every line and result for the PDF) in one batch."""
    visible = scoped_visits_sql(access)
    papers = ", ".join(loader.columns(alias) for _name, loader, alias in _PAPERS)
    joins = " ".join(
        f'LEFT JOIN "{loader.model._meta.db_table}" "{alias}" ON "{alias}"."visit_id" = "v"."id"'
        for _name, loader, alias in _PAPERS
    )
    visit = Statement(
        f'SELECT {_VISIT.columns("v")}, "f"."name", {papers} FROM {_VISITS} {joins} '
        f'WHERE "v"."id" = %s AND {visible.sql}',
        [visit_id, *visible.params],
    )
    scope = access.scope
    one = Statement("%s", [visit_id])
    statements = [visit, _facility_names_statement(visit_id)]
    statements.append(
        Statement(_lines_sql(_NOTE, "healthbook_clinicalnote", '"x"."visit_id" = %s'), [visit_id])
    )
    show_drugs = scope.allows_category("drugs")
    if show_drugs:
        statements += _tab_statements(TABS["drugs"], one)
    categories = [
        c
        for c in _PDF_CATEGORIES
        if any(c in spec.categories and scope.allows_tab(spec.key) for spec in TABS.values())
    ]
    if with_items:
        where = '"x"."visit_id" = %s AND "x"."category" IN ' + _in(categories) if categories else "1 = 0"
        params = [visit_id, *categories] if categories else []
        statements.append(Statement(_lines_sql(_SERVICE, "healthbook_serviceline", where), params))
        statements.append(Statement(_lines_sql(_RESULT, "healthbook_result", where), params))

    def build(results: list[Rows]) -> T:
        if not results[0].rows:
            raise NotFound()
        row = results[0].rows[0]
        loaded = _VISIT.load(row)
        assert loaded is not None
        offset = len(_VISIT)
        facility_name = row[offset] or ""
        offset += 1
        documents: dict[str, Any] = {}
        for name, loader, _alias in _PAPERS:
            documents[name] = loader.load(row, offset)
            offset += len(loader)
        names = dict(results[1].rows)
        names[loaded.facility_code] = facility_name
        summary = _summary_of(loaded, facility_name)
        patient = _patient(access)
        notes = [_NOTE.load(r) for r in results[2].rows]
        rest = results[3:]
        drugs: list[DrugItem] = []
        if show_drugs:
            hide_hiv = not scope.include_hiv
            drugs = [
                _drug(line)
                for line in _lines(_DRUG, rest[0])
                if not (hide_hiv and is_arv_drug(line["name"], line["drug_code"]))
            ]
            rest = rest[1:]
        items = None
        if with_items:
            items = _group_items(
                [summary],
                services=_lines(_SERVICE, rest[0]),
                results=_lines(_RESULT, rest[1]),
                patient=patient,
                scope=scope,
            )[0]
        detail = VisitDetail(
            access=access,
            visit=loaded,
            summary=summary,
            diagnoses=diagnoses_of(loaded),
            drugs=drugs,
            notes=[n for n in notes if n is not None],
            discharge_paper=documents["discharge_paper"],
            record_summary=documents["record_summary"],
            referral=documents["referral"],
            follow_up=documents["follow_up"],
            facility_names=names,
            items=items,
        )
        return finish(detail)

    return _Plan(statements, build, log_if=_visit_is_visible(access, visit_id))


def _visit_etag(kind: str, access: BookAccess, visit_id: int, version: int, *extra: object) -> str:
    return _etag(
        kind,
        access.citizen.pk,
        access.citizen.sex,
        access.citizen.birth_date.isoformat(),
        access.book.last_synced_at,
        visit_id,
        version,
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
    """*Chi tiết đợt khám*: one batch for the content, whatever the number of lines."""

    def plan(access: BookAccess) -> _Plan[Read[VisitDetail]]:
        _require_category(access, "visits")

        def finish(detail: VisitDetail) -> Read[VisitDetail]:
            etag = _visit_etag("visit", access, detail.visit.pk, detail.visit.version)
            if etag_matches(if_none_match, etag):
                return Read(etag, None)
            return Read(etag, detail)

        return _detail_plan(access, visit_id, with_items=False, finish=finish)

    return _logged_read(
        viewer=viewer,
        who=who,
        gate=gate,
        context=context,
        action="visit.detail",
        target=f"visit:{visit_id}",
        grant=grant,
        plan=plan,
    )


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

    def plan(access: BookAccess) -> _Plan[Read[TabContent]]:
        _require_tab(access, spec)

        def finish(results: list[Rows]) -> Read[TabContent]:
            if not results[0].rows:
                raise NotFound()
            summary = _summary(results[0].rows[0])
            etag = _visit_etag(spec.key, access, summary.id, summary.version)
            if etag_matches(if_none_match, etag):
                return Read(etag, None)
            shown = _shown_summary(access, summary)
            groups = _tab_groups(spec, [shown], results[1:], _patient(access), access.scope)
            return Read(etag, TabContent(access, spec, groups, year=summary.year))

        statements = [
            _visit_summary_statement(access, visit_id),
            *_tab_statements(spec, Statement("%s", [visit_id])),
        ]
        return _Plan(statements, finish, log_if=_visit_is_visible(access, visit_id))

    return _logged_read(
        viewer=viewer,
        who=who,
        gate=gate,
        context=context,
        action=spec.action,
        target=f"visit:{visit_id}",
        grant=grant,
        plan=plan,
    )


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

    def plan(access: BookAccess) -> _Plan[Read[TabContent]]:
        _require_year(access, year)
        _require_tab(access, spec)
        visible = scoped_visits_sql(access)
        if spec.is_drugs:
            has_lines = 'EXISTS (SELECT 1 FROM "healthbook_drugline" "l" WHERE "l"."visit_id" = "v"."id")'
            line_params: list[Any] = []
        else:
            has_lines = (
                'EXISTS (SELECT 1 FROM "healthbook_serviceline" "l" WHERE "l"."visit_id" = "v"."id" '
                f'AND "l"."category" IN {_in(spec.categories)})'
            )
            line_params = list(spec.categories)
        where = f'{visible.sql} AND "v"."visit_year" = %s AND {has_lines}'
        params = [*visible.params, year, *line_params]
        limit = [page_size, (page - 1) * page_size]
        count = Statement(f'SELECT COUNT(*) FROM "healthbook_visit" "v" WHERE {where}', params)
        rows = Statement(
            f"SELECT {_SUMMARY_COLUMNS} FROM {_VISITS} WHERE {where} {_NEWEST_FIRST} LIMIT %s OFFSET %s",
            [*params, *limit],
        )
        page_ids = Statement(
            f'SELECT "v"."id" FROM "healthbook_visit" "v" WHERE {where} {_NEWEST_FIRST} LIMIT %s OFFSET %s',
            [*params, *limit],
        )

        def finish(results: list[Rows]) -> Read[TabContent]:
            total = results[0].rows[0][0]
            summaries = [_shown_summary(access, _summary(row)) for row in results[1].rows]
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
            groups = (
                _tab_groups(spec, summaries, results[2:], _patient(access), access.scope) if summaries else []
            )
            return Read(
                etag,
                TabContent(access, spec, groups, year=year, page=Page(summaries, page, page_size, total)),
            )

        return _Plan([count, rows, *_tab_statements(spec, page_ids)], finish)

    return _logged_read(
        viewer=viewer,
        who=who,
        gate=gate,
        context=context,
        action=spec.action,
        target=f"year:{year}",
        grant=grant,
        plan=plan,
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

    def plan(access: BookAccess) -> _Plan[PdfFile]:
        _require_category(access, "visits")

        def finish(detail: VisitDetail) -> PdfFile:
            visit = detail.visit
            content = render_visit_pdf(detail, generated_at=timezone.now())
            day = timezone.localtime(visit.admitted_at).strftime("%Y%m%d") if visit.admitted_at else "0"
            return PdfFile(content, f"so-suc-khoe-{day}-{visit.facility_code}-{visit.pk}.pdf")

        return _detail_plan(access, visit_id, with_items=True, finish=finish)

    return _logged_read(
        viewer=viewer,
        who=who,
        gate=gate,
        context=context,
        action="visit.pdf",
        target=f"visit:{visit_id}",
        grant=grant,
        plan=plan,
    )
