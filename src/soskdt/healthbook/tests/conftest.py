"""Health-book test setup: visits for a citizen, an activated and unlocked book, the SMS outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from soskdt import testing
from soskdt.healthbook import book as book_services
from soskdt.healthbook.access import AccessContext
from soskdt.healthbook.models import Book, Visit
from soskdt.healthbook.records import VisitInput
from soskdt.healthbook.services import record_visits
from soskdt.healthbook.sms import LocmemSmsBackend
from soskdt.healthbook.tests.factories import make_facility, make_visit_input
from soskdt.identity import services as identity_services
from soskdt.identity.models import User
from soskdt.registry.models import Citizen, Facility

PASSCODE = "246813"
CTX = AccessContext(channel="page", ip_address="127.0.0.1", user_agent="pytest")


@pytest.fixture
def facility(db: None) -> Facility:
    return make_facility()


@pytest.fixture(autouse=True)
def _sms_outbox(settings: Any) -> list:
    settings.SOSKDT = {**settings.SOSKDT, "SMS_BACKEND": "soskdt.healthbook.sms.LocmemSmsBackend"}
    LocmemSmsBackend.outbox.clear()
    return LocmemSmsBackend.outbox


@pytest.fixture
def outbox() -> list:
    return LocmemSmsBackend.outbox


def visit_for(citizen: Citizen, **kwargs: Any) -> VisitInput:
    """A visit input whose patient is ``citizen`` (so that it links to them)."""
    visit = make_visit_input(personal_id=citizen.personal_id, **kwargs)
    visit.summary.update(
        {
            "HO_TEN": citizen.full_name,
            "NGAY_SINH": dt.datetime(citizen.birth_year, citizen.birth_month or 1, citizen.birth_day or 1),
            "GIOI_TINH": int(citizen.sex),
            "MA_THE_BHYT": None,
            "MA_DKBD": None,
            "GT_THE_TU": None,
            "GT_THE_DEN": None,
        }
    )
    return visit


_counter = iter(range(1, 10**6))


def add_visits(citizen: Citizen, *admitted: dt.datetime, **kwargs: Any) -> list[Visit]:
    """Record one visit of ``citizen`` per admission time (through record_visits) and return them."""
    make_facility()
    inputs = [
        visit_for(citizen, ma_lk=f"LK{next(_counter):07d}", admitted_at=when, **kwargs) for when in admitted
    ]
    outcomes = record_visits(visits=inputs)
    assert all(o.citizen_id == citizen.pk for o in outcomes), outcomes
    return list(Visit.objects.filter(pk__in=[o.visit_id for o in outcomes]).order_by("-admitted_at"))


def activate(user: User, passcode: str = PASSCODE) -> Book:
    book_services.accept_terms(viewer=user, who=user.citizen_id, terms_version="2025.1", context=CTX)
    return book_services.set_passcode(viewer=user, passcode=passcode, confirm=passcode, context=CTX)


def always(_access: Any) -> bool:
    return True


def sync(user: User, who: Any = None) -> book_services.SyncResult:
    return book_services.sync_book(viewer=user, who=who or user.citizen_id, gate=always, context=CTX)


@pytest.fixture
def child(citizen: User) -> Citizen:
    """The citizen persona's 6-year-old child, whom they represent."""
    return testing.make_citizen(
        full_name="Nguyễn Minh Khang",
        birth_year=dt.date.today().year - 6,
        birth_month=2,
        birth_day=3,
        representative=citizen.citizen,
        representative_relation="Con",
    )


@pytest.fixture
def book_with_visits(citizen: User) -> list[Visit]:
    """The citizen's book, activated and synced, with three visits over two years."""
    visits = add_visits(
        citizen.citizen,
        dt.datetime(2024, 11, 5, 8, 0),
        dt.datetime(2025, 3, 10, 8, 30),
        dt.datetime(2025, 9, 1, 7, 15),
    )
    activate(citizen)
    sync(citizen)
    return visits


@pytest.fixture
def bearer() -> Callable[[User], dict[str, str]]:
    def make(user: User) -> dict[str, str]:
        plaintext, _token = identity_services.issue_api_token(user=user)
        return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}", "HTTP_X_APP_VERSION": "2.1.0"}

    return make


def unlock_page(client: Any, user: User, who: str | None = None, passcode: str = PASSCODE) -> Any:
    """Sign in and enter the passcode on the page (the session is then unlocked for that book)."""
    client.force_login(user)
    pid = who or user.username
    return client.post(reverse("healthbook:unlock", args=[pid]), {"passcode": passcode})


@pytest.fixture
def staff_member(org_tree: testing.OrgTree) -> User:
    return testing.make_staff(org_unit=org_tree.departments[0])


def api_headers(
    client: Any, user: User, bearer: Callable[[User], dict[str, str]], who: str | None = None
) -> dict:
    """Bearer token headers plus an ``X-Book-Token`` from ``POST /me/book/unlock`` for ``who``'s book."""
    headers = bearer(user)
    query = f"?citizen={who}" if who else ""
    response = client.post(
        f"/api/v1/me/book/unlock{query}", {"passcode": PASSCODE}, content_type="application/json", **headers
    )
    assert response.status_code == 200, response.content
    return {**headers, "HTTP_X_BOOK_TOKEN": response.json()["book_token"]}


@dataclass
class Family:
    """A parent (the citizen persona) with an activated, synced book and a represented child's book."""

    parent: User
    child: Citizen
    parent_visits: list[Visit]
    child_visits: list[Visit]


@pytest.fixture
def family(citizen: User, child: Citizen, book_with_visits: list[Visit]) -> Family:
    child_visits = add_visits(child, dt.datetime(2025, 4, 2, 9, 0), dt.datetime(2025, 6, 20, 15, 30))
    book_services.accept_terms(viewer=citizen, who=child.pk, terms_version="2025.1", context=CTX)
    sync(citizen, child.pk)
    return Family(citizen, child, book_with_visits, child_visits)


def rich_visit(citizen: Citizen, *, ma_lk: str, admitted_at: dt.datetime, extra_drugs: int = 0) -> VisitInput:
    """An inpatient visit with a line in every tab, results with known ranges, and every paper.

    Labs: WBC 12.5 G/L (high), haemoglobin 118 g/L (low for a man), glucose 5.2 mmol/L (normal),
    creatinine 150 µmol/L (high for a man); a chest X-ray and an ECG with description and conclusion;
    an appendectomy (surgery) and a wound dressing (procedure); a referral and a follow-up slip.
    """
    from soskdt.healthbook.tests import factories

    visit = visit_for(
        citizen, ma_lk=ma_lk, admitted_at=admitted_at, drugs=2 + extra_drugs, services=5, results=0
    )
    surgery = factories._service(ma_lk, 6, admitted_at)
    surgery.update(
        {
            "MA_DICH_VU": "10.0448.0575",
            "MA_NHOM": 8,
            "TEN_DICH_VU": "Phẫu thuật nội soi cắt ruột thừa",
            "PP_VO_CAM": 1,
        }
    )
    dressing = factories._service(ma_lk, 7, admitted_at)
    dressing.update({"MA_DICH_VU": "03.3826.0211", "MA_NHOM": 18, "TEN_DICH_VU": "Thay băng vết mổ"})
    visit.services += [surgery, dressing]

    def result(stt: int, code: str, **fields: Any) -> dict[str, Any]:
        row = {
            "MA_LK": ma_lk,
            "STT": stt,
            "MA_DICH_VU": code,
            "NGAY_KQ": admitted_at + dt.timedelta(hours=2),
            "MA_BS_DOC_KQ": "000789/HCM-CCHN",
        }
        row.update(fields)
        return row

    visit.results = [
        result(
            1,
            "22.0120.1370",
            MA_CHI_SO="WBC",
            TEN_CHI_SO="Số lượng bạch cầu",
            GIA_TRI="12.5",
            DON_VI_DO="G/L",
        ),
        result(2, "22.0120.1370", MA_CHI_SO="HGB", TEN_CHI_SO="Huyết sắc tố", GIA_TRI="118", DON_VI_DO="g/L"),
        result(3, "23.0075.1494", MA_CHI_SO="GLU", TEN_CHI_SO="Glucose", GIA_TRI="5.2", DON_VI_DO="mmol/L"),
        result(4, "23.0020.1494", MA_CHI_SO="CRE", TEN_CHI_SO="Creatinin", GIA_TRI="150", DON_VI_DO="µmol/L"),
        result(
            5,
            "18.0119.0028",
            TEN_CHI_SO="Chụp Xquang ngực thẳng",
            MO_TA="Đám mờ thùy dưới phổi phải",
            KET_LUAN="Viêm phổi thùy dưới phải",
        ),
        result(
            6,
            "21.0014.1778",
            TEN_CHI_SO="Điện tim thường",
            MO_TA="Nhịp xoang đều 78 lần/phút",
            KET_LUAN="Điện tâm đồ bình thường",
        ),
    ]
    visit.referral = {
        "MA_LK": ma_lk,
        "SO_HOSO": "HS-1",
        "SO_CHUYENTUYEN": "CT-2025-0042",
        "GIAY_CHUYEN_TUYEN": "GCT-0042",
        "MA_NOI_DI": visit.facility_code,
        "MA_NOI_DEN": "79001",
        "DAU_HIEU_LS": "Sốt, ho đờm",
        "CHAN_DOAN_RV": "Viêm phổi do vi khuẩn",
        "QT_BENHLY": "Sốt 5 ngày",
        "TOMTAT_KQ": "Bạch cầu tăng",
        "PP_DIEUTRI": "Kháng sinh",
        "MA_BENH_CHINH": "J15.9",
        "MA_BENH_KT": ["I10"],
        "MA_LOAI_RV": 2,
        "MA_LYDO_CT": 2,
        "HUONG_DIEU_TRI": "Tiếp tục kháng sinh",
        "PHUONGTIEN_VC": "Xe cứu thương",
        "HOTEN_NGUOI_HT": "Lê Văn Tâm",
        "CHUCDANH_NGUOI_HT": "Điều dưỡng",
    }
    return visit


def add_rich_visit(citizen: Citizen, *, admitted_at: dt.datetime, extra_drugs: int = 0) -> Visit:
    make_facility()
    make_facility("79001")
    (outcome,) = record_visits(
        visits=[
            rich_visit(
                citizen, ma_lk=f"LK{next(_counter):07d}", admitted_at=admitted_at, extra_drugs=extra_drugs
            )
        ]
    )
    assert outcome.citizen_id == citizen.pk
    return Visit.objects.get(pk=outcome.visit_id)
