"""The visits a reader may see are decided twice: as a queryset (sharing's pages) and as SQL (the reads).

Both must pick exactly the same visits for every scope: years, and the HIV rule (an HIV code as main or
secondary diagnosis, in any case, or an XML6 table) — including visits with no codes at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.db import connection

from soskdt.healthbook import reads
from soskdt.healthbook.models import Book, RawDocument, Visit
from soskdt.healthbook.scope import Scope
from soskdt.healthbook.selectors import book_access
from soskdt.healthbook.tests.conftest import activate, add_visits, sync

pytestmark = pytest.mark.django_db


def sql_ids(access) -> set[int]:
    condition = reads.scoped_visits_sql(access)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "v"."id" FROM "healthbook_visit" "v" WHERE {condition.sql}', condition.params)
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def visits(citizen) -> dict[str, Visit]:
    found = add_visits(
        citizen.citizen,
        dt.datetime(2023, 3, 1, 8, 0),
        dt.datetime(2024, 3, 1, 8, 0),
        dt.datetime(2024, 6, 1, 8, 0),
        dt.datetime(2025, 3, 1, 8, 0),
        dt.datetime(2025, 6, 1, 8, 0),
        dt.datetime(2025, 9, 1, 8, 0),
    )
    named = dict(
        zip(["plain", "hiv_main", "hiv_secondary", "xml6", "no_codes", "lower_case"], found, strict=True)
    )
    Visit.objects.filter(pk=named["hiv_main"].pk).update(main_icd="B20.1")
    Visit.objects.filter(pk=named["hiv_secondary"].pk).update(secondary_icds="I10;Z21")
    RawDocument.objects.create(visit=named["xml6"], table="XML6", payload={"MA_LK": named["xml6"].ma_lk})
    Visit.objects.filter(pk=named["no_codes"].pk).update(main_icd=None, secondary_icds=None)
    Visit.objects.filter(pk=named["lower_case"].pk).update(main_icd="o98.7")
    activate(citizen)
    sync(citizen)
    (late,) = add_visits(citizen.citizen, dt.datetime(2025, 11, 1, 8, 0))  # not yet seen by a sync
    named["late"] = late
    return named


@pytest.mark.parametrize(
    "scope",
    [
        Scope.full(),
        Scope(years=None, include_hiv=False),
        Scope(years=frozenset({2024, 2025}), include_hiv=False),
        Scope(years=frozenset({2025}), include_hiv=True),
        Scope(years=frozenset(), include_hiv=True),
    ],
    ids=["owner", "no-hiv", "two-years-no-hiv", "one-year-with-hiv", "no-year"],
)
def test_the_queryset_and_the_sql_pick_the_same_visits(citizen, visits, scope):
    access = dataclasses.replace(book_access(citizen, citizen.citizen_id), scope=scope)
    expected = set(reads.scoped_visits(access).values_list("id", flat=True))
    assert sql_ids(access) == expected
    assert visits["late"].pk not in expected


def test_without_hiv_consent_every_hiv_related_visit_is_left_out(citizen, visits):
    access = dataclasses.replace(book_access(citizen, citizen.citizen_id), scope=Scope(include_hiv=False))
    assert sql_ids(access) == {visits["plain"].pk, visits["no_codes"].pk}


def test_a_book_never_synced_shows_nothing(citizen, visits):
    Book.objects.filter(citizen=citizen.citizen).update(last_synced_at=None)
    assert sql_ids(book_access(citizen, citizen.citizen_id)) == set()
