"""The two reads a citizen makes most cost a constant number of SQL queries, on the page and in the API.

*Visits of one year* costs the same for a year with 2 visits and one with 40; *one visit with all its
items* (the detail, each tab, the PDF) the same for a visit with 5 items and one with 200.
``test_book_queries.py`` compares smaller sizes read by read; this file goes through the pages and the API.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from soskdt.healthbook.tests.conftest import activate, add_visits, api_headers, sync, unlock_page

SMALL = {"drugs": 2, "services": 2, "results": 1}  # 5 items
LARGE = {"drugs": 80, "services": 60, "results": 60}  # 200 items
# Equality between the sizes is the point; the ceilings catch a new query per call (SQLite runs the
# statements of a batch one by one; on PostgreSQL the two hottest API reads are 2 queries, test_fast_book_reads).
MAX_PAGE_QUERIES = 12
MAX_API_QUERIES = 11


@pytest.fixture
def book(citizen):
    """A visit with 5 items in 2024 (with one other), one with 200 items in 2025 (with 39 others)."""
    who = citizen.citizen
    (small,) = add_visits(who, dt.datetime(2024, 5, 4, 7, 45), **SMALL)
    add_visits(who, dt.datetime(2024, 2, 1, 8, 0), **SMALL)
    (large,) = add_visits(who, dt.datetime(2025, 11, 20, 7, 45), **LARGE)
    add_visits(who, *[dt.datetime(2025, 1 + i % 10, 1 + i // 10, 8, 0) for i in range(39)], **SMALL)
    activate(citizen)
    sync(citizen)
    return small, large


def queries(client, url, **headers):
    """The queries of one GET (after one warm-up GET: session and token bookkeeping stay out)."""
    assert client.get(url, **headers).status_code == 200, url
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.content[:300])
    return len(captured.captured_queries), response


def test_visits_of_one_year_cost_the_same_for_2_or_40_visits_on_the_page(client, citizen, book):
    unlock_page(client, citizen)
    pid = citizen.username
    few, _ = queries(client, reverse("healthbook:year", args=[pid, 2024]))
    many, response = queries(client, reverse("healthbook:year", args=[pid, 2025]))
    assert response.content.decode().count('class="visit-card"') == 20  # a full page of the 40
    assert few == many <= MAX_PAGE_QUERIES


def test_visits_of_one_year_cost_the_same_for_2_or_40_visits_in_the_api(client, citizen, book, bearer):
    headers = api_headers(client, citizen, bearer)
    few, small = queries(client, "/api/v1/me/book/years/2024/visits?page_size=100", **headers)
    many, large = queries(client, "/api/v1/me/book/years/2025/visits?page_size=100", **headers)
    assert (small.json()["total"], len(large.json()["items"])) == (2, 40)
    assert few == many <= MAX_API_QUERIES


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("healthbook:visit", ()),
        ("healthbook:visit_tab", ("xet-nghiem",)),
        ("healthbook:visit_tab", ("chan-doan-hinh-anh",)),
        ("healthbook:visit_tab", ("thuoc-da-dieu-tri",)),
        ("healthbook:visit_tab", ("phau-thuat-thu-thuat",)),
        ("healthbook:visit_pdf", ()),
    ],
)
def test_one_visit_with_all_its_items_costs_the_same_for_5_or_200_items_on_the_page(
    client, citizen, book, url_name, args
):
    small, large = book
    unlock_page(client, citizen)
    pid = citizen.username
    few, _ = queries(client, reverse(url_name, args=[pid, small.pk, *args]))
    many, _ = queries(client, reverse(url_name, args=[pid, large.pk, *args]))
    assert few == many <= MAX_PAGE_QUERIES


@pytest.mark.parametrize(
    "suffix", ["", "/tabs/lab", "/tabs/imaging", "/tabs/drugs", "/tabs/procedures", "/pdf"]
)
def test_one_visit_with_all_its_items_costs_the_same_for_5_or_200_items_in_the_api(
    client, citizen, book, bearer, suffix
):
    small, large = book
    headers = api_headers(client, citizen, bearer)
    few, _ = queries(client, f"/api/v1/me/book/visits/{small.pk}{suffix}", **headers)
    many, response = queries(client, f"/api/v1/me/book/visits/{large.pk}{suffix}", **headers)
    if suffix == "":
        assert len(response.json()["drugs"]) == LARGE["drugs"]
    if suffix == "/tabs/lab":
        assert response.json()["visits"], response.json()
    assert few == many <= MAX_API_QUERIES
