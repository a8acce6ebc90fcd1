"""A representative manages a child's book until the 14th birthday; after that only with the person's renewal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from soskdt import testing
from soskdt.core.errors import DomainError, NotFound
from soskdt.healthbook.selectors import book_access, managed_people, may_be_represented
from soskdt.identity.models import User
from soskdt.registry.models import Citizen
from soskdt.sharing import services

pytestmark = pytest.mark.django_db


def _child(parent: User, *, year: int, month: int | None, day: int | None) -> Citizen:
    return testing.make_citizen(
        birth_year=year,
        birth_month=month,
        birth_day=day,
        representative=parent.citizen,
        representative_relation="Con",
    )


def _years_ago(today: dt.date, years: int) -> dt.date:
    return today.replace(year=today.year - years)


def test_the_representatives_access_ends_on_the_14th_birthday(citizen: User) -> None:
    today = timezone.localdate()
    birthday = _years_ago(today, 14)
    child = _child(citizen, year=birthday.year, month=birthday.month, day=birthday.day)
    day_before = today - dt.timedelta(days=1)
    assert may_be_represented(child, day_before)
    assert not may_be_represented(child, today)
    with pytest.raises(NotFound):
        book_access(citizen, child.pk)
    assert managed_people(citizen) == []


def test_the_day_before_the_14th_birthday_the_representative_still_manages(citizen: User) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    birthday = _years_ago(tomorrow, 14)
    child = _child(citizen, year=birthday.year, month=birthday.month, day=birthday.day)
    assert book_access(citizen, child.pk).actor_kind == "representative"


def test_a_year_only_birth_counts_from_the_first_of_january() -> None:
    child = Citizen(personal_id="0", full_name="x", birth_year=2010, sex="1")
    assert may_be_represented(child, dt.date(2023, 12, 31))
    assert not may_be_represented(child, dt.date(2024, 1, 1))
    month_only = Citizen(personal_id="0", full_name="x", birth_year=2010, birth_month=7, sex="1")
    assert may_be_represented(month_only, dt.date(2024, 6, 30))
    assert not may_be_represented(month_only, dt.date(2024, 7, 1))


def test_adults_who_designated_a_representative_stay_managed(citizen: User) -> None:
    adult = _child(citizen, year=timezone.localdate().year - 40, month=1, day=1)
    assert book_access(citizen, adult.pk).actor_kind == "representative"


def test_the_teenager_renews_and_revokes_the_representatives_access(client: Any, citizen: User) -> None:
    fifteen = _years_ago(timezone.localdate(), 15)
    teen = _child(citizen, year=fifteen.year, month=fifteen.month, day=fifteen.day)
    teen_account = testing.make_citizen_account(citizen=teen)
    with pytest.raises(NotFound):
        book_access(citizen, teen.pk)
    client.force_login(teen_account)
    page = client.get(reverse("sharing:proxy")).content.decode()
    assert "Gia hạn cho người đại diện quản lý sổ" in page
    assert client.post(reverse("sharing:proxy"), {"action": "renew"}).status_code == 302
    assert book_access(citizen, teen.pk).actor_kind == "representative"
    assert [p.citizen.pk for p in managed_people(citizen)] == [teen.pk]
    assert client.post(reverse("sharing:proxy"), {"action": "revoke"}).status_code == 302
    with pytest.raises(NotFound):
        book_access(citizen, teen.pk)


def test_a_child_under_14_has_nothing_to_renew(citizen: User) -> None:
    child = _child(citizen, year=timezone.localdate().year - 8, month=2, day=3)
    account = testing.make_citizen_account(citizen=child)
    with pytest.raises(DomainError):
        services.renew_proxy(viewer=account)
