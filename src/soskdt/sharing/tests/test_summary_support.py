"""Builders shared by the summary, FHIR and export tests (no tests here): visits shaped line by line.

``record`` stores one visit of a citizen through ``healthbook.services.record_visits`` (as ingestion
does) with exactly the diagnoses, drugs, results and papers a test names; ``open_book`` activates and
syncs the citizen's book so that its visits show.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from soskdt.healthbook import book as book_services
from soskdt.healthbook import terms
from soskdt.healthbook.access import AccessContext
from soskdt.healthbook.models import Book, Visit
from soskdt.healthbook.services import record_visits
from soskdt.healthbook.tests import factories
from soskdt.identity.models import User
from soskdt.registry.models import Citizen

PASSCODE = "246813"
CTX = AccessContext(channel="page", ip_address="127.0.0.1", user_agent="pytest")
TZ = dt.timezone(dt.timedelta(hours=7))
_counter = itertools.count(1)

GROUP_OF = {"lab": 1, "imaging": 2, "functional": 3, "surgery": 8, "procedure": 18}


def drug(name: str, *, strength: str = "", dose: str = "", quantity: str = "10", code: str = "40.1") -> dict:
    return {"name": name, "strength": strength, "dose": dose, "quantity": quantity, "code": code}


def lab(code: str, name: str, value: str, unit: str, *, service: str = "23.0075.1494") -> dict:
    return {"kind": "lab", "indicator": code, "name": name, "value": value, "unit": unit, "service": service}


def report(kind: str, name: str, conclusion: str, *, service: str = "18.0119.0028") -> dict:
    return {
        "kind": kind,
        "name": name,
        "conclusion": conclusion,
        "description": f"Mô tả {name}",
        "service": service,
    }


def record(
    citizen: Citizen,
    *,
    admitted_at: dt.datetime,
    facility: str = "79048",
    visit_type: str = "01",
    icds: tuple[str, ...] = ("I10",),
    texts: tuple[str, ...] = (),
    drugs: list[dict] | None = None,
    results: list[dict] | None = None,
    procedures: list[tuple[str, str]] | None = None,  # (kind surgery|procedure, name)
    follow_up_at: dt.datetime | None = None,
    referral_to: str | None = None,
    days: int = 0,
) -> Visit:
    """Store one visit of ``citizen`` with exactly these lines (all at ``facility``)."""
    factories.make_facility(facility)
    if referral_to:
        factories.make_facility(referral_to)
    ma_lk = f"T{next(_counter):07d}"
    admitted = admitted_at.replace(tzinfo=None)
    visit = factories.make_visit_input(
        ma_lk=ma_lk,
        facility_code=facility,
        personal_id=citizen.personal_id,
        drugs=0,
        services=0,
        results=0,
        notes=0,
        documents=False,
        admitted_at=admitted,
    )
    discharged = admitted + (dt.timedelta(days=days) if days else dt.timedelta(hours=2))
    visit.summary.update(
        {
            "HO_TEN": citizen.full_name,
            "NGAY_SINH": dt.datetime(citizen.birth_year, citizen.birth_month or 1, citizen.birth_day or 1),
            "GIOI_TINH": int(citizen.sex),
            "MA_THE_BHYT": None,
            "MA_DKBD": None,
            "GT_THE_TU": None,
            "GT_THE_DEN": None,
            "MA_LOAI_KCB": visit_type,
            "MA_BENH_CHINH": icds[0] if icds else None,
            "MA_BENH_KT": list(icds[1:]),
            "CHAN_DOAN_RV": "; ".join(texts or tuple(f"Bệnh {c}" for c in icds)),
            "NGAY_RA": discharged,
            "NGAY_VAO_NOI_TRU": None,
            "SO_NGAY_DTRI": (discharged.date() - admitted.date()).days + 1 if visit_type == "03" else 0,
            "NGAY_TTOAN": discharged,
            "NGAY_TAI_KHAM": None,
            "T_THUOC": Decimal(0),
            "T_VTYT": Decimal(0),
        }
    )
    visit.received_at = dt.datetime.now(dt.UTC)
    for i, spec in enumerate(drugs or [], start=1):
        row = factories._drug(ma_lk, i, admitted)
        row.update(
            {
                "MA_THUOC": spec["code"],
                "TEN_THUOC": spec["name"],
                "HAM_LUONG": spec["strength"],
                "LIEU_DUNG": spec["dose"],
                "SO_LUONG": Decimal(spec["quantity"]),
                "NGAY_YL": spec.get("ordered_at", admitted + dt.timedelta(minutes=5)),
                "NGAY_TH_YL": spec.get("ordered_at", admitted + dt.timedelta(minutes=5)),
            }
        )
        visit.drugs.append(row)
    line = 0
    for spec in results or []:
        line += 1
        service = factories._service(ma_lk, line, admitted)
        service.update(
            {
                "MA_DICH_VU": spec["service"],
                "MA_NHOM": GROUP_OF[spec["kind"]],
                "TEN_DICH_VU": spec["name"],
                "NGAY_KQ": admitted + dt.timedelta(minutes=50),
            }
        )
        visit.services.append(service)
        visit.results.append(
            {
                "MA_LK": ma_lk,
                "STT": line,
                "MA_DICH_VU": spec["service"],
                "MA_CHI_SO": spec.get("indicator"),
                "TEN_CHI_SO": spec["name"],
                "GIA_TRI": spec.get("value"),
                "DON_VI_DO": spec.get("unit"),
                "MO_TA": spec.get("description"),
                "KET_LUAN": spec.get("conclusion"),
                "NGAY_KQ": admitted + dt.timedelta(minutes=50),
                "MA_BS_DOC_KQ": "000789/HCM-CCHN",
            }
        )
    for kind, name in procedures or []:
        line += 1
        service = factories._service(ma_lk, line, admitted)
        service.update(
            {
                "MA_DICH_VU": f"10.{line:04d}.0575",
                "MA_NHOM": GROUP_OF[kind],
                "TEN_DICH_VU": name,
                "PP_VO_CAM": 1 if kind == "surgery" else None,
                "MA_PTTT_QT": "47.01" if kind == "surgery" else None,
            }
        )
        visit.services.append(service)
    if follow_up_at is not None:
        visit.follow_up = {
            "MA_LK": ma_lk,
            "SO_GIAYHEN_KL": f"HK-{ma_lk}",
            "MA_CSKCB": facility,
            "HO_TEN": citizen.full_name,
            "NGAY_HEN_KL": follow_up_at.replace(tzinfo=None),
            "CHAN_DOAN_RV": visit.summary["CHAN_DOAN_RV"],
            "MA_BENH_CHINH": icds[0] if icds else None,
            "MA_BENH_KT": list(icds[1:]),
            "MA_BAC_SI": "000123/HCM-CCHN",
            "NGAY_CT": discharged.date(),
        }
    if referral_to:
        visit.referral = {
            "MA_LK": ma_lk,
            "SO_HOSO": "HS-1",
            "SO_CHUYENTUYEN": "CT-1",
            "GIAY_CHUYEN_TUYEN": f"GCT-{ma_lk}",
            "MA_NOI_DI": facility,
            "MA_NOI_DEN": referral_to,
            "CHAN_DOAN_RV": visit.summary["CHAN_DOAN_RV"],
            "MA_BENH_CHINH": icds[0] if icds else None,
            "MA_BENH_KT": list(icds[1:]),
            "MA_LOAI_RV": 2,
            "MA_LYDO_CT": 2,
            "HUONG_DIEU_TRI": "Tiếp tục điều trị",
        }
    (outcome,) = record_visits(visits=[visit])
    assert outcome.citizen_id == citizen.pk, outcome
    return Visit.objects.get(pk=outcome.visit_id)


def open_book(user: User) -> Book:
    """Activate the user's book (terms + passcode) and sync it so that its visits show."""
    book_services.accept_terms(
        viewer=user, who=user.citizen_id, terms_version=terms.CURRENT_VERSION, context=CTX
    )
    book_services.set_passcode(viewer=user, passcode=PASSCODE, confirm=PASSCODE, context=CTX)
    return sync(user)


def sync(user: User) -> Book:
    book_services.sync_book(viewer=user, who=user.citizen_id, gate=lambda _a: True, context=CTX)
    return Book.objects.get(citizen_id=user.citizen_id)


def local(y: int, m: int, d: int, h: int = 8, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=TZ)


def citizen_of(user: User) -> Citizen:
    assert user.citizen is not None
    return user.citizen


def any_value(items: list[Any], **wanted: Any) -> Any:
    """The first item whose attributes equal ``wanted``."""
    for item in items:
        if all(getattr(item, k) == v for k, v in wanted.items()):
            return item
    raise AssertionError(f"no item with {wanted} in {items!r}")
