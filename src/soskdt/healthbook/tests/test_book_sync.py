"""Cập nhật dữ liệu: visits linked to the citizen show in the book only after a sync, which counts the new ones."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from soskdt.core.errors import DomainError
from soskdt.healthbook import reads
from soskdt.healthbook.models import Book, Visit
from soskdt.healthbook.services import record_visits
from soskdt.healthbook.tests.conftest import CTX, activate, add_visits, always, sync, unlock_page, visit_for


def test_before_the_first_sync_the_book_is_empty(citizen):
    add_visits(citizen.citizen, dt.datetime(2025, 3, 10, 8, 30))
    activate(citizen)
    home = reads.open_book(viewer=citizen, who=citizen.citizen_id, gate=always, context=CTX)
    assert home.years == [] and home.last_synced_at is None


def test_the_first_sync_brings_every_linked_visit_and_says_how_many(citizen):
    add_visits(citizen.citizen, dt.datetime(2024, 5, 1, 8, 0), dt.datetime(2025, 3, 10, 8, 30))
    activate(citizen)
    result = sync(citizen)
    assert (result.new_visits, result.updated_visits, result.previous_sync) == (2, 0, None)
    assert Book.objects.get(citizen=citizen.citizen).last_synced_at == result.synced_at


def test_a_later_sync_counts_only_visits_that_arrived_since(citizen):
    add_visits(citizen.citizen, dt.datetime(2025, 3, 10, 8, 30))
    activate(citizen)
    first = sync(citizen)
    assert sync(citizen).new_visits == 0
    add_visits(citizen.citizen, dt.datetime(2025, 6, 1, 8, 0), dt.datetime(2025, 7, 1, 8, 0))
    home = reads.open_book(viewer=citizen, who=citizen.citizen_id, gate=always, context=CTX)
    assert sum(y.visits for y in home.years) == 1  # not shown before the next sync
    again = sync(citizen)
    assert again.new_visits == 2 and again.previous_sync > first.synced_at
    home = reads.open_book(viewer=citizen, who=citizen.citizen_id, gate=always, context=CTX)
    assert sum(y.visits for y in home.years) == 3


def test_a_corrected_visit_counts_as_updated_not_new(citizen):
    (visit,) = add_visits(citizen.citizen, dt.datetime(2025, 3, 10, 8, 30))
    activate(citizen)
    sync(citizen)
    corrected = visit_for(citizen.citizen, ma_lk=visit.ma_lk, admitted_at=dt.datetime(2025, 3, 10, 8, 30))
    corrected.summary["LY_DO_VV"] = "Sốt cao, ho đờm"
    corrected.received_at = timezone.now() + dt.timedelta(seconds=1)
    record_visits(visits=[corrected])
    assert Visit.objects.get(pk=visit.pk).version == 2
    result = sync(citizen)
    assert (result.new_visits, result.updated_visits) == (0, 1)


def test_visits_of_other_people_are_not_counted(citizen, other_citizen):
    add_visits(other_citizen.citizen, dt.datetime(2025, 3, 10, 8, 30))
    activate(citizen)
    assert sync(citizen).new_visits == 0


def test_a_sync_needs_the_book_unlocked(citizen):
    activate(citizen)
    with pytest.raises(DomainError) as refused:
        from soskdt.healthbook import book as services

        services.sync_book(viewer=citizen, who=citizen.citizen_id, gate=lambda _a: False, context=CTX)
    assert refused.value.code == "BOOK_LOCKED" and refused.value.status == 401
    assert Book.objects.get(citizen=citizen.citizen).last_synced_at is None


# --- the page ----------------------------------------------------------------------------------------------


def test_the_book_page_calls_to_action_before_the_first_sync(client, citizen):
    add_visits(citizen.citizen, dt.datetime(2025, 3, 10, 8, 30))
    activate(citizen)
    unlock_page(client, citizen)
    html = client.get(reverse("healthbook:book", args=[citizen.username])).content.decode()
    assert "Sổ chưa có dữ liệu." in html
    assert "Bấm “Cập nhật dữ liệu” để tải các đợt khám chữa bệnh vào sổ." in html
    assert f'hx-post="{reverse("healthbook:sync", args=[citizen.username])}"' in html


def test_cap_nhat_du_lieu_with_htmx_says_how_many_visits_are_new_and_reloads_the_years(client, citizen):
    add_visits(citizen.citizen, dt.datetime(2024, 5, 1, 8, 0), dt.datetime(2025, 3, 10, 8, 30))
    activate(citizen)
    unlock_page(client, citizen)
    response = client.post(reverse("healthbook:sync", args=[citizen.username]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Có 2 đợt khám mới." in html
    assert 'hx-target="#book-years"' in html and 'hx-swap-oob="true"' in html
    years = client.get(
        reverse("healthbook:book", args=[citizen.username]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="book-years",
    ).content.decode()
    assert "<html" not in years
    assert reverse("healthbook:year", args=[citizen.username, 2025]) in years
    assert reverse("healthbook:year", args=[citizen.username, 2024]) in years


def test_cap_nhat_du_lieu_without_javascript_returns_to_the_book_with_the_count(client, citizen):
    add_visits(citizen.citizen, dt.datetime(2025, 3, 10, 8, 30))
    activate(citizen)
    unlock_page(client, citizen)
    response = client.post(reverse("healthbook:sync", args=[citizen.username]), follow=True)
    assert "Có 1 đợt khám mới." in response.content.decode()


def test_the_sync_api_answers_new_visits(client, citizen, bearer):
    from soskdt.healthbook.tests.conftest import api_headers

    add_visits(citizen.citizen, dt.datetime(2025, 3, 10, 8, 30))
    activate(citizen)
    headers = api_headers(client, citizen, bearer)
    body = client.post("/api/v1/me/book/sync", **headers).json()
    assert body["new_visits"] == 1 and body["previous_sync"] is None
    assert client.post("/api/v1/me/book/sync", **headers).json()["new_visits"] == 0
