"""Sharing test setup: a citizen's book with visits over two years (one HIV visit, ARV and HIV-test lines),
clinicians at the same and at another facility, an auditor, and helpers to share and open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from soskdt import testing
from soskdt.healthbook.access import AccessContext
from soskdt.healthbook.models import AccessLog, AccessOutcome, Visit
from soskdt.healthbook.services import record_visits
from soskdt.healthbook.tests.conftest import activate, sync, visit_for
from soskdt.healthbook.tests.factories import _service, make_facility
from soskdt.identity.models import Role, User
from soskdt.registry.models import Citizen
from soskdt.sharing import services
from soskdt.sharing.models import ShareSession

CTX = AccessContext(channel="page", ip_address="127.0.0.1", user_agent="pytest")
API_CTX = AccessContext(channel="api", ip_address="127.0.0.1", user_agent="pytest")

ARV_NAME = "Tenofovir + Lamivudin + Dolutegravir (TLD)"
HIV_TEST_NAME = "HIV Ag/Ab test nhanh"

_counter = iter(range(1, 10**6))


def _lk() -> str:
    return f"SH{next(_counter):07d}"


def plain_visit(citizen: Citizen, admitted_at: dt.datetime, **kwargs: Any) -> Any:
    return visit_for(citizen, ma_lk=_lk(), admitted_at=admitted_at, **kwargs)


def hiv_lines_visit(citizen: Citizen, admitted_at: dt.datetime) -> Any:
    """An ordinary visit (pneumonia) that also carries an ARV drug line and an HIV test with its result."""
    visit = plain_visit(citizen, admitted_at)
    arv = dict(visit.drugs[0])
    arv.update({"STT": 90, "MA_THUOC": "40.999", "TEN_THUOC": ARV_NAME, "HAM_LUONG": "300mg+300mg+50mg"})
    visit.drugs.append(arv)
    test = _service(visit.ma_lk, 1, admitted_at)
    test.update({"STT": 90, "MA_DICH_VU": "24.0001.1714", "TEN_DICH_VU": HIV_TEST_NAME, "MA_NHOM": 1})
    visit.services.append(test)
    visit.results.append(
        {
            "MA_LK": visit.ma_lk,
            "STT": 90,
            "MA_DICH_VU": "24.0001.1714",
            "MA_CHI_SO": "HIV",
            "TEN_CHI_SO": "HIV Ag/Ab",
            "GIA_TRI": "Âm tính",
            "NGAY_KQ": admitted_at + dt.timedelta(hours=3),
        }
    )
    return visit


def hiv_visit(citizen: Citizen, admitted_at: dt.datetime) -> Any:
    """A visit whose main diagnosis is HIV disease (B20), with an XML6 table."""
    visit = plain_visit(citizen, admitted_at)
    visit.summary.update(
        {"MA_BENH_CHINH": "B20.0", "MA_BENH_KT": [], "CHAN_DOAN_RV": "Bệnh HIV gây nhiễm mycobacteria"}
    )
    visit.raw_documents = {
        "XML6": {"root": "CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS", "data": {}}
    }
    return visit


@dataclass
class SharedBook:
    owner: User
    citizen: Citizen
    v2024: Visit
    v2025: Visit  # carries the ARV and HIV-test lines
    hiv: Visit  # 2025, main diagnosis B20


# The books depend on org_tree so that its facility exists before the healthbook factory's "79048"
# (get_or_create) and the two never collide on a code.
@pytest.fixture
def book(org_tree: testing.OrgTree, citizen: User) -> SharedBook:
    make_facility()
    person = citizen.citizen
    assert person is not None
    inputs = [
        plain_visit(person, dt.datetime(2024, 11, 5, 8, 0)),
        hiv_lines_visit(person, dt.datetime(2025, 3, 10, 8, 30)),
        hiv_visit(person, dt.datetime(2025, 6, 1, 9, 0)),
    ]
    outcomes = record_visits(visits=inputs)
    assert all(o.citizen_id == person.pk for o in outcomes)
    ids = [o.visit_id for o in outcomes]
    activate(citizen)
    sync(citizen)
    visits = {v.pk: v for v in Visit.objects.filter(pk__in=ids)}
    return SharedBook(citizen, person, visits[ids[0]], visits[ids[1]], visits[ids[2]])


@pytest.fixture
def other_book(org_tree: testing.OrgTree, other_citizen: User) -> Visit:
    make_facility()
    person = other_citizen.citizen
    assert person is not None
    (outcome,) = record_visits(visits=[plain_visit(person, dt.datetime(2025, 2, 2, 8, 0))])
    activate(other_citizen)
    sync(other_citizen)
    return Visit.objects.get(pk=outcome.visit_id)


@pytest.fixture
def colleague(clinician: User) -> User:
    """Another clinician at the same facility."""
    return testing.make_staff(full_name="Võ Minh Tâm", facility=clinician.facility, roles=[Role.CLINICIAN])


@pytest.fixture
def elsewhere_clinician(db: None) -> User:
    """A clinician at another facility."""
    facility = testing.make_facility(code="79901", name="Bệnh viện Quận 9")
    return testing.make_staff(full_name="Đỗ Văn Phúc", facility=facility, roles=[Role.CLINICIAN])


@pytest.fixture
def auditor(org_tree: testing.OrgTree) -> User:
    return testing.make_staff(full_name="Bùi Thị Kiểm", org_unit=org_tree.centre, roles=[Role.AUDITOR])


def share(owner: User, **kwargs: Any) -> services.ShareCreated:
    kwargs.setdefault("categories", ["visits", "lab", "imaging", "functional", "drugs", "procedures"])
    return services.create_share(viewer=owner, who=owner.citizen_id, context=CTX, **kwargs)


def open_session(clinician: User, created: services.ShareCreated) -> ShareSession:
    return services.open_share(viewer=clinician, code=created.code, context=CTX)


def rows(citizen: Citizen, **filters: Any) -> list[AccessLog]:
    return list(AccessLog.objects.filter(owner=citizen, **filters).order_by("id"))


def successes(citizen: Citizen, actor: User) -> list[AccessLog]:
    return rows(citizen, actor=actor, outcome=AccessOutcome.SUCCESS)


def denials(citizen: Citizen, actor: User) -> list[AccessLog]:
    return rows(citizen, actor=actor, outcome=AccessOutcome.DENIED)
