"""Reads cost a fixed number of queries whatever the number of lines (no N+1): 5 items or 50, same count."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from soskdt.healthbook import reads
from soskdt.healthbook.tests.conftest import (
    CTX,
    activate,
    add_rich_visit,
    add_visits,
    always,
    api_headers,
    sync,
    unlock_page,
)


@pytest.fixture
def small_and_large(citizen):
    """A visit with 5 drugs and one with 50 (and all the other lines), in a year with 2 and a year with 30 visits."""
    small = add_rich_visit(citizen.citizen, admitted_at=dt.datetime(2024, 5, 4, 7, 45), extra_drugs=3)
    large = add_rich_visit(citizen.citizen, admitted_at=dt.datetime(2025, 5, 4, 7, 45), extra_drugs=48)
    add_visits(citizen.citizen, dt.datetime(2024, 1, 3, 8, 0))
    add_visits(citizen.citizen, *[dt.datetime(2025, 1 + i % 12, 1 + i // 12, 8, 0) for i in range(29)])
    activate(citizen)
    sync(citizen)
    return small, large


# Counts include the SAVEPOINT and RELEASE of the read's transaction inside the test's transaction.


def count(fn):
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def read(fn, user, **kwargs):
    return lambda: fn(viewer=user, who=user.citizen_id, gate=always, context=CTX, **kwargs)


def test_the_visit_detail_costs_the_same_for_5_or_50_lines(citizen, small_and_large):
    small, large = small_and_large
    assert (
        len(
            reads.visit_detail(
                viewer=citizen, who=citizen.citizen_id, visit_id=large.pk, gate=always, context=CTX
            ).data.drugs
        )
        == 50
    )
    a = count(read(reads.visit_detail, citizen, visit_id=small.pk))
    b = count(read(reads.visit_detail, citizen, visit_id=large.pk))
    assert a == b <= 11


@pytest.mark.parametrize("tab", ["lab", "imaging", "functional", "drugs", "procedures"])
def test_a_visit_tab_costs_the_same_for_5_or_50_lines(citizen, small_and_large, tab):
    small, large = small_and_large
    a = count(read(reads.visit_tab, citizen, visit_id=small.pk, tab_key=tab))
    b = count(read(reads.visit_tab, citizen, visit_id=large.pk, tab_key=tab))
    assert a == b <= 8


def test_the_visits_of_a_year_cost_the_same_for_2_or_30_visits(citizen, small_and_large):
    a = count(read(reads.visits_for_year, citizen, year=2024, page_size=100))
    b = count(read(reads.visits_for_year, citizen, year=2025, page_size=100))
    assert a == b <= 7


@pytest.mark.parametrize("tab", ["lab", "drugs"])
def test_a_year_tab_costs_the_same_for_2_or_30_visits(citizen, small_and_large, tab):
    a = count(read(reads.year_tab, citizen, year=2024, tab_key=tab, page_size=50))
    b = count(read(reads.year_tab, citizen, year=2025, tab_key=tab, page_size=50))
    assert a == b <= 9


def test_the_pdf_costs_the_same_for_5_or_50_lines(citizen, small_and_large):
    small, large = small_and_large
    assert count(read(reads.visit_pdf, citizen, visit_id=small.pk)) == count(
        read(reads.visit_pdf, citizen, visit_id=large.pk)
    )


def test_the_pages_and_api_cost_the_same_for_5_or_50_lines(client, citizen, small_and_large, bearer):
    small, large = small_and_large
    unlock_page(client, citizen)
    pid = citizen.username
    headers = api_headers(client, citizen, bearer)

    def get(url, **extra):
        return lambda: client.get(url, **extra)

    for make, bound in (
        (lambda v: get(reverse("healthbook:visit", args=[pid, v.pk])), 12),
        (lambda v: get(reverse("healthbook:visit_tab", args=[pid, v.pk, "xet-nghiem"])), 10),
        (lambda v: get(f"/api/v1/me/book/visits/{v.pk}", **headers), 14),
        (lambda v: get(f"/api/v1/me/book/visits/{v.pk}/tabs/lab", **headers), 12),
    ):
        make(small)()  # warm up (session, last-used time of the API token)
        assert count(make(small)) == count(make(large)) <= bound
