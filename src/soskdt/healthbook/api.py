"""The health book for the citizen app (``/me/book/``): activation, passcode, sync, years, visits, tabs, PDF.

Every call needs the account's authentication (``identity.auth.api_auth``: bearer token or page session).
Reads of the book's content also need ``X-Book-Token``, issued by ``POST /me/book/unlock`` for one
book and valid 15 minutes. A represented person's book (a child under 14) is named by
``?citizen=<personal ID>``; without it the caller's own book is meant. Reads answer with a weak ETag
and ``304 Not Modified`` to a matching ``If-None-Match`` (still logged as a read).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.responses import NinjaJSONEncoder
from pydantic import ConfigDict

from soskdt.core import throttle
from soskdt.healthbook import book as services
from soskdt.healthbook import fastpath, labels, present, reads, selectors, terms
from soskdt.healthbook.access import AccessContext, context_from
from soskdt.healthbook.reads import (
    DrugItem,
    Page,
    Read,
    ResultItem,
    ServiceItem,
    TabContent,
    VisitDetail,
    VisitItems,
    VisitSummary,
    YearVisits,
)
from soskdt.healthbook.selectors import BookAccess, Who
from soskdt.identity.api import ErrorRead
from soskdt.identity.auth import (
    APP_VERSION_HEADER,
    api_auth,
    deferred_api_auth,
    require_citizen,
    settle,
    unchecked_bearer,
)
from soskdt.identity.models import User

PREFIX = "/me/book/"
router = Router(tags=["healthbook"], auth=api_auth)

BOOK_TOKEN_HEADER = "X-Book-Token"  # noqa: S105 - a header name, not a secret
TabKey = Literal["lab", "imaging", "functional", "drugs", "procedures"]

_ERRORS: dict[int, type[ErrorRead]] = {
    401: ErrorRead,
    403: ErrorRead,
    404: ErrorRead,
    409: ErrorRead,
    422: ErrorRead,
}
_READ_ERRORS = {**_ERRORS, 304: None}

_CITIZEN_DESCRIPTION = (
    "Số định danh cá nhân của người được quản lý (con dưới 14 tuổi, người đã chỉ định bạn làm người đại "
    "diện). Bỏ trống: sổ của chính bạn."
)


# --- parameters -------------------------------------------------------------------------------------


class BookParams(Schema):
    citizen: str | None = Field(None, pattern=r"^[0-9]{12}$", description=_CITIZEN_DESCRIPTION)


class PageParams(BookParams):
    page: int = Field(1, ge=1, description="Trang, bắt đầu từ 1.")
    page_size: int = Field(20, ge=1, le=100, description="Số mục mỗi trang (tối đa 100).")


class YearTabParams(BookParams):
    page: int = Field(1, ge=1, description="Trang, bắt đầu từ 1.")
    page_size: int = Field(10, ge=1, le=50, description="Số đợt khám mỗi trang (tối đa 50).")


# --- schemas ------------------------------------------------------------------------------------------


class PersonRef(Schema):
    personal_id: str
    full_name: str


class BookState(Schema):
    """The state of a book before it is opened: what the app must ask for next."""

    citizen: PersonRef
    relation: Literal["citizen", "representative"] = Field(
        description="citizen: sổ của chính bạn; representative: sổ của người bạn quản lý."
    )
    activated: bool
    terms_version: str = Field(description="Phiên bản điều khoản đã đồng ý (rỗng nếu chưa đồng ý).")
    terms_accepted_at: dt.datetime | None
    current_terms_version: str
    passcode_set: bool = Field(
        description="Passcode mở sổ này đã được đặt (với sổ người được quản lý: passcode của bạn)."
    )
    locked: bool = Field(description="Đang bị khóa do nhập sai passcode quá 5 lần.")
    locked_minutes: int = Field(description="Số phút còn bị khóa (0 nếu không khóa).")
    unlocked: bool = Field(description=f"{BOOK_TOKEN_HEADER} gửi kèm còn hiệu lực cho sổ này.")
    last_synced_at: dt.datetime | None = Field(description="Lần Cập nhật dữ liệu gần nhất.")
    next_step: Literal["activate_own_book", "accept_terms", "set_passcode", "unlock", "open"]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "citizen": {"personal_id": "079085000123", "full_name": "Nguyễn Văn An"},
                    "relation": "citizen",
                    "activated": False,
                    "terms_version": "",
                    "terms_accepted_at": None,
                    "current_terms_version": terms.CURRENT_VERSION,
                    "passcode_set": False,
                    "locked": False,
                    "locked_minutes": 0,
                    "unlocked": False,
                    "last_synced_at": None,
                    "next_step": "accept_terms",
                },
                {
                    "citizen": {"personal_id": "079085000123", "full_name": "Nguyễn Văn An"},
                    "relation": "citizen",
                    "activated": True,
                    "terms_version": terms.CURRENT_VERSION,
                    "terms_accepted_at": "2025-03-02T09:10:00+07:00",
                    "current_terms_version": terms.CURRENT_VERSION,
                    "passcode_set": True,
                    "locked": False,
                    "locked_minutes": 0,
                    "unlocked": True,
                    "last_synced_at": "2025-03-20T19:45:12+07:00",
                    "next_step": "open",
                },
            ]
        }
    )


class TermsRead(Schema):
    version: str
    title: str
    paragraphs: list[str]


class BookActivate(Schema):
    """*Đồng ý sử dụng* and, for your own book on first use, the 6-digit passcode."""

    accept_terms: bool = Field(description="Phải là true: đồng ý điều khoản sử dụng.")
    terms_version: str = Field(description="Phiên bản điều khoản đã hiển thị (GET /me/book/terms).")
    passcode: str | None = Field(
        None,
        description="6 chữ số; bắt buộc cho sổ của bạn khi chưa có passcode. Bỏ qua với sổ người được quản lý.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"accept_terms": True, "terms_version": terms.CURRENT_VERSION, "passcode": "246813"}]
        }
    )


class PasscodeCheck(Schema):
    passcode: str = Field(description="6 chữ số.", examples=["246813"])


class BookTokenRead(Schema):
    book_token: str = Field(description=f"Gửi trong header {BOOK_TOKEN_HEADER}; chỉ hiển thị một lần.")
    expires_at: dt.datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"book_token": "a1b2c3d4e5f6.Zk3…", "expires_at": "2025-03-20T20:00:12+07:00"}]
        }
    )


class ResetRequestRead(Schema):
    sent_to: str = Field(description="Số điện thoại nhận OTP, đã che bớt.")
    expires_at: dt.datetime

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"sent_to": "09******67", "expires_at": "2025-03-20T19:50:00+07:00"}]}
    )


class PasscodeReset(Schema):
    otp: str = Field(description="Mã OTP 6 chữ số nhận qua SMS.", examples=["381945"])
    new_passcode: str = Field(description="Passcode mới, 6 chữ số.", examples=["135792"])


class SyncRead(Schema):
    new_visits: int = Field(description="Số đợt khám mới kể từ lần cập nhật trước.")
    updated_visits: int = Field(description="Số đợt khám đã có được cơ sở gửi lại (bản sửa).")
    last_synced_at: dt.datetime
    previous_sync: dt.datetime | None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "new_visits": 2,
                    "updated_visits": 0,
                    "last_synced_at": "2025-03-20T19:45:12+07:00",
                    "previous_sync": "2025-02-01T08:00:00+07:00",
                }
            ]
        }
    )


class YearRead(Schema):
    year: int
    visits: int


class YearList(Schema):
    years: list[YearRead] = Field(description="Chỉ các năm có đợt khám, năm gần nhất trước.")
    last_synced_at: dt.datetime | None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "years": [{"year": 2025, "visits": 3}, {"year": 2024, "visits": 5}],
                    "last_synced_at": "2025-03-20T19:45:12+07:00",
                }
            ]
        }
    )


class CodeLabel(Schema):
    code: str
    label: str


class FacilityRef(Schema):
    code: str
    name: str


_VISIT_EXAMPLE: dict[str, Any] = {
    "id": 1042,
    "version": 1,
    "year": 2025,
    "facility": {"code": "79048", "name": "Trung tâm Y tế khu vực An Phú"},
    "admitted_at": "2025-03-10T08:30:00+07:00",
    "discharged_at": "2025-03-14T10:30:00+07:00",
    "visit_type": {"code": "03", "label": "Điều trị nội trú"},
    "main_diagnosis": {"code": "J15.9", "text": "Viêm phổi do vi khuẩn"},
}


class MainDiagnosis(Schema):
    code: str
    text: str


class VisitListItem(Schema):
    """One visit in the list: facility, dates, visit type, main diagnosis."""

    id: int
    version: int
    year: int | None
    facility: FacilityRef
    admitted_at: dt.datetime | None
    discharged_at: dt.datetime | None
    visit_type: CodeLabel
    main_diagnosis: MainDiagnosis

    model_config = ConfigDict(json_schema_extra={"examples": [_VISIT_EXAMPLE]})


class VisitList(Schema):
    items: list[VisitListItem]
    page: int
    page_size: int
    total: int

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_VISIT_EXAMPLE], "page": 1, "page_size": 20, "total": 1}]}
    )


class DiagnosisRead(Schema):
    code: str = Field(description="Mã ICD-10.")
    text: str
    main: bool = Field(description="Bệnh chính (true) hay bệnh kèm theo.")


class DrugRead(Schema):
    line_no: int
    code: str
    name: str
    strength: str
    dosage_form: str
    unit: str
    quantity: str = Field(description="Số lượng như cơ sở gửi.")
    dose: str = Field(description="Liều dùng.")
    usage: str = Field(description="Cách dùng.")
    route: CodeLabel = Field(description="Đường dùng.")
    ordered_at: dt.datetime | None
    administered_at: dt.datetime | None


class ResultRead(Schema):
    line_no: int
    indicator_code: str
    name: str
    value: str
    unit: str
    reference_range: str = Field(description="Khoảng tham chiếu khi biết (người lớn), ví dụ “3,9 – 6,4”.")
    flag: Literal["high", "low"] | None = Field(
        description="Cao/thấp hơn khoảng tham chiếu; null nếu không rõ."
    )
    description: str
    conclusion: str
    result_at: dt.datetime | None


class ServiceRead(Schema):
    line_no: int
    code: str
    name: str
    category: CodeLabel
    quantity: str
    unit: str
    ordered_at: dt.datetime | None
    performed_at: dt.datetime | None
    result_at: dt.datetime | None
    procedure_codes: str
    anaesthesia: str
    results: list[ResultRead]


class TabVisitRead(Schema):
    visit: VisitListItem
    services: list[ServiceRead]
    drugs: list[DrugRead]
    other_results: list[ResultRead] = Field(description="Kết quả không gắn được với dịch vụ nào.")


class TabRead(Schema):
    """A tab of one visit, or of every visit of a year (then paginated by visit)."""

    tab: TabKey
    label: str
    year: int | None
    visits: list[TabVisitRead]
    page: int
    page_size: int
    total: int = Field(description="Số đợt khám có dữ liệu của tab (theo năm), hoặc 1 (một đợt khám).")


class LabelledValue(Schema):
    label: str
    value: str


class SectionRead(Schema):
    key: str
    title: str
    rows: list[LabelledValue]


class NoteRead(Schema):
    line_no: int
    noted_at: dt.datetime | None
    progress: str
    disease_stage: str
    consultation: str
    surgery: str


class VisitRead(Schema):
    """*Chi tiết đợt khám*: every section of the visit as sent. Lines of the tabs are under ``/tabs/``."""

    id: int
    version: int
    year: int | None
    facility: FacilityRef
    visit_type: CodeLabel
    admitted_at: dt.datetime | None
    inpatient_at: dt.datetime | None
    discharged_at: dt.datetime | None
    treatment_days: int | None
    outcome: CodeLabel
    discharge_type: CodeLabel
    diagnoses: list[DiagnosisRead] = Field(description="Chẩn đoán xác định khi ra viện, bệnh chính trước.")
    administrative: SectionRead = Field(description="Thông tin hành chính, như cơ sở gửi.")
    visit: SectionRead = Field(description="Đợt khám, chữa bệnh.")
    drugs: list[DrugRead] = Field(description="Thuốc đã điều trị, đơn thuốc (XML2).")
    notes: list[NoteRead] = Field(description="Diễn biến lâm sàng (XML5).")
    record_summary: SectionRead | None = Field(description="Tóm tắt hồ sơ bệnh án (XML8).")
    discharge_paper: SectionRead | None = Field(description="Giấy ra viện (XML7).")
    referral: SectionRead | None = Field(description="Giấy chuyển tuyến (XML13).")
    follow_up: SectionRead | None = Field(description="Giấy hẹn khám lại (XML14).")
    tabs: list[CodeLabel] = Field(description="Các tab: GET /me/book/visits/{id}/tabs/{code}.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_VISIT_EXAMPLE,
                    "inpatient_at": "2025-03-10T09:15:00+07:00",
                    "treatment_days": 5,
                    "outcome": {"code": "2", "label": "Đỡ"},
                    "discharge_type": {"code": "1", "label": "Ra viện"},
                    "diagnoses": [
                        {"code": "J15.9", "text": "Viêm phổi do vi khuẩn", "main": True},
                        {"code": "I10", "text": "Tăng huyết áp", "main": False},
                    ],
                    "administrative": {
                        "key": "administrative",
                        "title": "Thông tin hành chính",
                        "rows": [{"label": "Họ và tên", "value": "Nguyễn Văn An"}],
                    },
                    "visit": {
                        "key": "visit",
                        "title": "Đợt khám, chữa bệnh",
                        "rows": [{"label": "Lý do vào viện", "value": "Sốt cao, ho kéo dài 5 ngày"}],
                    },
                    "drugs": [],
                    "notes": [],
                    "record_summary": None,
                    "discharge_paper": None,
                    "referral": None,
                    "follow_up": None,
                    "tabs": [{"code": "lab", "label": "Xét nghiệm"}],
                }
            ]
        }
    )


class ManagedPersonRead(Schema):
    personal_id: str
    full_name: str
    birth_date: str = Field(description="yyyy, yyyy-mm hoặc yyyy-mm-dd.")
    age: int
    relation: str = Field(description="Quan hệ với bạn, như sổ dân cư ghi (Con, Cha, Mẹ…).")
    book_activated: bool


# --- helpers ------------------------------------------------------------------------------------------


def _viewer(request: HttpRequest) -> User:
    return require_citizen(request)


def _who(viewer: User, params: BookParams) -> Who:
    return params.citizen if params.citizen else int(viewer.citizen_id or 0)


def _context(request: HttpRequest) -> AccessContext:
    return context_from(request, "api")


def _book_token(request: HttpRequest) -> str | None:
    return request.headers.get(BOOK_TOKEN_HEADER)


def _fast_request(request: HttpRequest, params: BookParams) -> dict[str, Any] | None:
    """What ``fastpath`` takes from a request of one's own book with an unchecked bearer token, or None
    (someone else's book, or the session): then ``settle`` and ``reads`` answer."""
    bearer = unchecked_bearer(request)
    if bearer is None or params.citizen is not None:
        return None
    return {
        "bearer": bearer,
        "book_token": _book_token(request),
        "app_version": request.headers.get(APP_VERSION_HEADER),
        "context": _context(request),
        "if_none_match": request.headers.get("If-None-Match"),
    }


def _gate(request: HttpRequest) -> Callable[[BookAccess], bool]:
    return services.BookTokenGate(_book_token(request))


class _Encoder(NinjaJSONEncoder):
    """Ninja's encoder, trying first what a book's answer holds most of: dates and times."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.date):  # datetimes too
            return DjangoJSONEncoder.default(self, o)
        return super().default(o)


def _answer(read: Read[Any], build: Callable[[Any], dict[str, Any]]) -> HttpResponse:
    """The JSON answer of a read with its ETag, or ``304`` when the client's copy is current.

    The body is serialised here, not re-validated against the response schema (which documents it):
    the builders below make exactly the schema's shape, and a test validates every answer against it.
    """
    if read.data is None:
        answer = HttpResponse(status=304)
    else:
        answer = HttpResponse(
            json.dumps(build(read.data), cls=_Encoder), content_type="application/json; charset=utf-8"
        )
    answer["ETag"] = read.etag
    answer["Cache-Control"] = "private, no-cache"
    return answer


def _number(value: Any) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _visit_item(v: VisitSummary) -> dict[str, Any]:
    """A ``VisitListItem``."""
    return {
        "id": v.id,
        "version": v.version,
        "year": v.year,
        "facility": {"code": v.facility_code, "name": v.facility_name},
        "admitted_at": v.admitted_at,
        "discharged_at": v.discharged_at,
        "visit_type": {"code": v.visit_type, "label": v.visit_type_label},
        "main_diagnosis": {"code": v.main_icd, "text": v.main_diagnosis},
    }


def _visit_list(content: YearVisits) -> dict[str, Any]:
    """A ``VisitList``."""
    return _page_list(content.page)


def _page_list(page: Page[VisitSummary]) -> dict[str, Any]:
    """A ``VisitList`` of a page of visits."""
    return {
        "items": [_visit_item(v) for v in page.items],
        "page": page.page,
        "page_size": page.page_size,
        "total": page.total,
    }


def _drug(d: DrugItem) -> dict[str, Any]:
    """A ``DrugRead``."""
    return {
        "line_no": d.line_no,
        "code": d.code,
        "name": d.name,
        "strength": d.strength,
        "dosage_form": d.dosage_form,
        "unit": d.unit,
        "quantity": _number(d.quantity),
        "dose": d.dose,
        "usage": d.usage,
        "route": {"code": d.route_code, "label": d.route_label},
        "ordered_at": d.ordered_at,
        "administered_at": d.administered_at,
    }


def _result(r: ResultItem) -> dict[str, Any]:
    """A ``ResultRead``."""
    return {
        "line_no": r.line_no,
        "indicator_code": r.indicator_code,
        "name": r.name,
        "value": r.value,
        "unit": r.unit,
        "reference_range": r.reference,
        "flag": r.flag,
        "description": r.description,
        "conclusion": r.conclusion,
        "result_at": r.result_at,
    }


def _service(s: ServiceItem) -> dict[str, Any]:
    """A ``ServiceRead``."""
    return {
        "line_no": s.line_no,
        "code": s.code,
        "name": s.name,
        "category": {"code": s.category, "label": s.category_label},
        "quantity": _number(s.quantity),
        "unit": s.unit,
        "ordered_at": s.ordered_at,
        "performed_at": s.performed_at,
        "result_at": s.result_at,
        "procedure_codes": s.procedure_codes,
        "anaesthesia": s.anaesthesia_label,
        "results": [_result(r) for r in s.results],
    }


def _tab_group(g: VisitItems) -> dict[str, Any]:
    """A ``TabVisitRead``."""
    return {
        "visit": _visit_item(g.visit),
        "services": [_service(s) for s in g.services],
        "drugs": [_drug(d) for d in g.drugs],
        "other_results": [_result(r) for r in g.other_results],
    }


def _tab_read(content: TabContent) -> dict[str, Any]:
    """A ``TabRead``."""
    page: Page[VisitSummary] | None = content.page
    return {
        "tab": content.tab.key,
        "label": str(content.tab.label),
        "year": content.year,
        "visits": [_tab_group(g) for g in content.groups],
        "page": page.page if page else 1,
        "page_size": page.page_size if page else 1,
        "total": page.total if page else 1,
    }


def _section(section: present.Section | None) -> dict[str, Any] | None:
    """A ``SectionRead``."""
    if section is None:
        return None
    return {
        "key": section.key,
        "title": section.title,
        "rows": [{"label": label, "value": value} for label, value in section.rows],
    }


@lru_cache(maxsize=16)
def _tabs(language: str | None) -> list[dict[str, str]]:
    # ``language`` is the active one: it keys the cache (the labels are translated on first use).
    return [{"code": spec.key, "label": str(spec.label)} for spec in reads.TABS.values()]


def _visit_read(detail: VisitDetail) -> dict[str, Any]:
    """A ``VisitRead``."""
    v = detail.visit
    return {
        "id": v.pk,
        "version": v.version,
        "year": v.visit_year,
        "facility": {"code": v.facility_code, "name": detail.summary.facility_name},
        "visit_type": {"code": v.visit_type or "", "label": labels.visit_type(v.visit_type)},
        "admitted_at": v.admitted_at,
        "inpatient_at": v.inpatient_at,
        "discharged_at": v.discharged_at,
        "treatment_days": v.treatment_days,
        "outcome": {"code": str(v.outcome or ""), "label": detail.outcome_label},
        "discharge_type": {"code": str(v.discharge_type or ""), "label": detail.discharge_type_label},
        "diagnoses": [{"code": d.code, "text": d.text, "main": d.main} for d in detail.diagnoses],
        "administrative": _section(present.administrative(detail)),
        "visit": _section(present.visit_section(detail)),
        "drugs": [_drug(d) for d in detail.drugs],
        "notes": [
            {
                "line_no": n.line_no,
                "noted_at": n.noted_at,
                "progress": n.progress or "",
                "disease_stage": n.disease_stage or "",
                "consultation": n.consultation or "",
                "surgery": n.surgery or "",
            }
            for n in detail.notes
        ],
        "record_summary": _section(present.record_summary_section(detail)),
        "discharge_paper": _section(present.discharge_section(detail)),
        "referral": _section(present.referral_section(detail)),
        "follow_up": _section(present.follow_up_section(detail)),
        "tabs": _tabs(get_language()),
    }


# --- state, activation, passcode ---------------------------------------------------------------------


def _next_step(access: BookAccess, passcode_set: bool) -> str:
    if not access.is_own and not passcode_set:
        return "activate_own_book"
    if not access.terms_current:
        return "accept_terms"
    if not passcode_set:
        return "set_passcode"
    return "unlock"


def _state(request: HttpRequest, viewer: User, who: Who) -> BookState:
    access = selectors.book_access(viewer, who)
    book = access.book
    holder = book if access.is_own else selectors.own_book(viewer)
    passcode_set = bool(holder is not None and holder.has_passcode)
    minutes = throttle.locked_for(services.passcode_limit(), f"user:{viewer.pk}")
    unlocked = access.is_open and services.book_token_valid(_book_token(request), user=viewer, book=book)
    step = _next_step(access, passcode_set)
    if step == "unlock" and unlocked:
        step = "open"
    return BookState(
        citizen=PersonRef(personal_id=access.citizen.personal_id, full_name=access.citizen.full_name),
        relation=access.actor_kind,  # type: ignore[arg-type]
        activated=access.is_activated,
        terms_version=book.terms_version,
        terms_accepted_at=book.terms_accepted_at,
        current_terms_version=terms.CURRENT_VERSION,
        passcode_set=passcode_set,
        locked=minutes > 0,
        locked_minutes=minutes,
        unlocked=unlocked,
        last_synced_at=book.last_synced_at,
        next_step=step,  # type: ignore[arg-type]
    )


@router.get("", response={200: BookState, **_ERRORS}, summary="Trạng thái Sổ sức khỏe điện tử")
def book_state(request: HttpRequest, params: Query[BookParams]) -> BookState:
    viewer = _viewer(request)
    return _state(request, viewer, _who(viewer, params))


@router.get("terms", response={200: TermsRead, 401: ErrorRead, 404: ErrorRead}, summary="Điều khoản sử dụng")
def book_terms(request: HttpRequest) -> TermsRead:
    _viewer(request)
    return TermsRead(
        version=terms.CURRENT_VERSION, title=str(terms.TITLE), paragraphs=[str(p) for p in terms.PARAGRAPHS]
    )


@router.get(
    "people",
    response={200: list[ManagedPersonRead], 401: ErrorRead, 404: ErrorRead},
    summary="Người được quản lý",
    description="Những người bạn là người đại diện hợp pháp: con dưới 14 tuổi, người lớn đã chỉ định bạn.",
)
def managed_people(request: HttpRequest) -> list[ManagedPersonRead]:
    viewer = _viewer(request)
    return [
        ManagedPersonRead(
            personal_id=p.personal_id,
            full_name=p.full_name,
            birth_date=p.citizen.birth_date.isoformat(),
            age=p.age,
            relation=p.relation,
            book_activated=p.book_activated,
        )
        for p in selectors.managed_people(viewer)
    ]


@router.post(
    "activate",
    response={200: BookState, **_ERRORS},
    summary="Kích hoạt sổ: Đồng ý sử dụng và đặt passcode",
    description=(
        "Ghi nhận đồng ý điều khoản (phiên bản, thời điểm, người đồng ý) và, với sổ của bạn khi chưa có "
        "passcode, đặt passcode 6 chữ số (422 PASSCODE_INVALID / PASSCODE_TOO_SIMPLE). Sai phiên bản điều "
        "khoản: 409 BOOK_TERMS_VERSION_OUTDATED. Sổ của người được quản lý: chỉ cần đồng ý; sổ của bạn "
        "phải có passcode trước (409 BOOK_OWN_BOOK_FIRST). Tài khoản mức 1: 403 BOOK_LEVEL2_REQUIRED."
    ),
)
def activate(request: HttpRequest, payload: BookActivate, params: Query[BookParams]) -> BookState:
    viewer = _viewer(request)
    who = _who(viewer, params)
    services.activate_book(
        viewer=viewer,
        who=who,
        terms_accepted=payload.accept_terms,
        terms_version=payload.terms_version,
        passcode=payload.passcode,
        context=_context(request),
    )
    return _state(request, viewer, who)


@router.post(
    "unlock",
    response={200: BookTokenRead, 429: ErrorRead, **_ERRORS},
    summary="Nhập passcode, nhận mã mở sổ",
    description=(
        f"Trả về {BOOK_TOKEN_HEADER} dùng cho các lệnh đọc sổ trong 15 phút. Sai passcode: 401 "
        "PASSCODE_WRONG (details: remaining). Sai 5 lần: sổ bị khóa 15 phút, 429 PASSCODE_LOCKED (thông báo "
        "ghi số phút còn lại); đặt lại passcode bằng OTP để mở khóa ngay. Sổ người được quản lý mở bằng "
        "passcode của bạn."
    ),
)
def unlock(request: HttpRequest, payload: PasscodeCheck, params: Query[BookParams]) -> BookTokenRead:
    viewer = _viewer(request)
    unlocked = services.unlock_book(
        viewer=viewer,
        who=_who(viewer, params),
        passcode=payload.passcode,
        context=_context(request),
        issue_token=True,
    )
    return BookTokenRead(book_token=unlocked.token or "", expires_at=unlocked.expires_at)


@router.post(
    "lock", response={204: None, 401: ErrorRead, 404: ErrorRead}, summary="Đóng sổ (thu hồi mã mở sổ)"
)
def lock(request: HttpRequest) -> Status[None]:
    viewer = _viewer(request)
    token = _book_token(request)
    if token:
        services.revoke_book_tokens(user=viewer, plaintext=token)
    return Status(204, None)


@router.post(
    "passcode/reset-request",
    response={202: ResetRequestRead, 429: ErrorRead, **_ERRORS},
    summary="Quên passcode: gửi mã OTP",
    description=(
        "Gửi mã OTP 6 chữ số qua SMS tới số điện thoại đăng ký. Mã có hiệu lực 5 phút, nhập sai tối đa 5 "
        "lần. Tối đa 3 lần yêu cầu trong 15 phút (429 OTP_RATE_LIMITED)."
    ),
)
def reset_request(request: HttpRequest) -> Status[ResetRequestRead]:
    viewer = _viewer(request)
    sent = services.request_passcode_reset(viewer=viewer, context=_context(request))
    return Status(202, ResetRequestRead(sent_to=sent.phone_masked, expires_at=sent.expires_at))


@router.post(
    "passcode/reset",
    response={204: None, 400: ErrorRead, **_ERRORS},
    summary="Đặt lại passcode bằng mã OTP",
    description="Sai OTP: 400 OTP_WRONG; hết hạn hoặc quá số lần: 400 OTP_EXPIRED. Thành công: bỏ khóa sổ.",
)
def reset(request: HttpRequest, payload: PasscodeReset) -> Status[None]:
    viewer = _viewer(request)
    services.reset_passcode(
        viewer=viewer, otp=payload.otp, passcode=payload.new_passcode, confirm=None, context=_context(request)
    )
    return Status(204, None)


# --- reading the book ------------------------------------------------------------------------------


@router.post(
    "sync",
    response={200: SyncRead, **_ERRORS},
    summary="Cập nhật dữ liệu",
    description="Đưa các đợt khám mới về sổ và cho biết có bao nhiêu đợt khám mới. Cần X-Book-Token.",
)
def sync(request: HttpRequest, params: Query[BookParams]) -> SyncRead:
    viewer = _viewer(request)
    result = services.sync_book(
        viewer=viewer, who=_who(viewer, params), gate=_gate(request), context=_context(request)
    )
    return SyncRead(
        new_visits=result.new_visits,
        updated_visits=result.updated_visits,
        last_synced_at=result.synced_at,
        previous_sync=result.previous_sync,
    )


@router.get("years", response={200: YearList, **_READ_ERRORS}, summary="Năm có đợt khám")
def years(request: HttpRequest, params: Query[BookParams]) -> HttpResponse:
    viewer = _viewer(request)
    read = reads.years(
        viewer=viewer,
        who=_who(viewer, params),
        gate=_gate(request),
        context=_context(request),
        if_none_match=request.headers.get("If-None-Match"),
    )
    return _answer(
        read,
        lambda home: {
            "years": [{"year": y.year, "visits": y.visits} for y in home.years],
            "last_synced_at": home.last_synced_at,
        },
    )


@router.get(
    "years/{year}/visits",
    response={200: VisitList, **_READ_ERRORS},
    summary="Các đợt khám của một năm",
    description="Mới nhất trước; phân trang bằng page, page_size.",
    auth=deferred_api_auth,
)
def visits_of_year(
    request: HttpRequest,
    params: Query[PageParams],
    year: int = Path(..., ge=1900, le=2200),
) -> Any:
    asked = _fast_request(request, params)
    if asked is not None:
        fast = fastpath.visits_for_year(year=year, page=params.page, page_size=params.page_size, **asked)
        if fast is not None:
            return _answer(fast, _page_list)
    settle(request)
    viewer = _viewer(request)
    read = reads.visits_for_year(
        viewer=viewer,
        who=_who(viewer, params),
        year=year,
        page=params.page,
        page_size=params.page_size,
        gate=_gate(request),
        context=_context(request),
        if_none_match=request.headers.get("If-None-Match"),
    )
    return _answer(read, _visit_list)


@router.get(
    "years/{year}/tabs/{tab}",
    response={200: TabRead, **_READ_ERRORS},
    summary="Một tab qua mọi đợt khám của năm",
    description="Xét nghiệm, chẩn đoán hình ảnh, thăm dò chức năng, thuốc, phẫu thuật – thủ thuật; phân trang theo đợt khám.",
)
def year_tab(
    request: HttpRequest,
    tab: TabKey,
    params: Query[YearTabParams],
    year: int = Path(..., ge=1900, le=2200),
) -> Any:
    viewer = _viewer(request)
    read = reads.year_tab(
        viewer=viewer,
        who=_who(viewer, params),
        year=year,
        tab_key=tab,
        page=params.page,
        page_size=params.page_size,
        gate=_gate(request),
        context=_context(request),
        if_none_match=request.headers.get("If-None-Match"),
    )
    return _answer(read, _tab_read)


@router.get(
    "visits/{visit_id}",
    response={200: VisitRead, **_READ_ERRORS},
    summary="Chi tiết đợt khám",
    auth=deferred_api_auth,
)
def visit_detail(request: HttpRequest, visit_id: int, params: Query[BookParams]) -> HttpResponse:
    asked = _fast_request(request, params)
    if asked is not None:
        fast = fastpath.visit_detail(visit_id=visit_id, **asked)
        if fast is not None:
            return _answer(fast, _visit_read)
    settle(request)
    viewer = _viewer(request)
    read = reads.visit_detail(
        viewer=viewer,
        who=_who(viewer, params),
        visit_id=visit_id,
        gate=_gate(request),
        context=_context(request),
        if_none_match=request.headers.get("If-None-Match"),
    )
    return _answer(read, _visit_read)


@router.get(
    "visits/{visit_id}/tabs/{tab}", response={200: TabRead, **_READ_ERRORS}, summary="Một tab của đợt khám"
)
def visit_tab(request: HttpRequest, visit_id: int, tab: TabKey, params: Query[BookParams]) -> HttpResponse:
    viewer = _viewer(request)
    read = reads.visit_tab(
        viewer=viewer,
        who=_who(viewer, params),
        visit_id=visit_id,
        tab_key=tab,
        gate=_gate(request),
        context=_context(request),
        if_none_match=request.headers.get("If-None-Match"),
    )
    return _answer(read, _tab_read)


@router.get(
    "visits/{visit_id}/pdf",
    response={200: None, **_ERRORS},
    summary="Tải PDF đợt khám",
    description="Bản PDF A4 của đợt khám (QĐ 31/QĐ-BYT), tạo khi yêu cầu; được ghi nhật ký như một lần xem.",
    openapi_extra={
        "responses": {
            200: {
                "description": "application/pdf",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def visit_pdf(request: HttpRequest, visit_id: int, params: Query[BookParams]) -> HttpResponse:
    viewer = _viewer(request)
    pdf = reads.visit_pdf(
        viewer=viewer,
        who=_who(viewer, params),
        visit_id=visit_id,
        gate=_gate(request),
        context=_context(request),
    )
    answer = HttpResponse(pdf.content, content_type="application/pdf")
    answer["Content-Disposition"] = f'attachment; filename="{pdf.filename}"'
    answer["Cache-Control"] = "private, no-store"
    return answer
