"""Statuses: derived from identity and wallet where the person has an account, entered otherwise, with history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from soskdt.core.errors import DomainError
from soskdt.rollout import selectors, services
from soskdt.rollout.models import Indicator, StatusChange
from soskdt.rollout.tests.conftest import add_staff, at, give_account, link_card

pytestmark = pytest.mark.django_db


def state_of(entry, moment):
    return selectors.staff_states([entry.unit_id], moment, entry_ids=[entry.pk])[0]


def test_a_person_with_an_account_gets_statuses_from_the_system(exam_unit):
    entry = add_staff(exam_unit)
    user = give_account(entry, granted_on=dt.date(2024, 6, 1))
    link_card(user, linked_at=at(2024, 12, 3))
    before = state_of(entry, at(2024, 12, 1))
    assert before.matched
    assert before.statuses[Indicator.LEVEL2].done and before.statuses[Indicator.LEVEL2].from_system
    assert before.statuses[Indicator.VNEID_INSTALLED].done  # level 2 with an app version seen
    assert not before.statuses[Indicator.CARD_LINKED].done
    after = state_of(entry, at(2024, 12, 31))
    assert after.statuses[Indicator.CARD_LINKED].done and after.statuses[Indicator.CARD_LINKED].from_system


def test_an_entered_value_does_not_override_the_system_but_its_reason_is_used(exam_unit, unit_reporter):
    entry = add_staff(exam_unit)
    give_account(entry, level=1, granted_on=dt.date(2024, 6, 1))
    services.record_status(entry=entry, indicator=Indicator.LEVEL2, done=True, by=unit_reporter)
    state = state_of(entry, at(2030, 1, 1))
    assert not state.statuses[Indicator.LEVEL2].done  # a level-1 account is not level 2, whatever was typed
    services.record_status(
        entry=entry,
        indicator=Indicator.LEVEL2,
        done=False,
        reason_code="NOT_REGISTERED_POLICE",
        by=unit_reporter,
    )
    state = state_of(entry, at(2030, 1, 1))
    assert state.statuses[Indicator.LEVEL2].reason_code == "NOT_REGISTERED_POLICE"
    assert state.statuses[Indicator.CARD_LINKED].reason_code == "NO_LEVEL2"
    assert not state.statuses[Indicator.CARD_LINKED].reason_editable


def test_a_person_without_an_account_has_entered_statuses(exam_unit, unit_reporter):
    entry = add_staff(exam_unit)
    state = state_of(entry, at(2030, 1, 1))
    assert not state.matched
    assert state.statuses[Indicator.LEVEL2].source == "none"
    services.record_status(entry=entry, indicator=Indicator.LEVEL2, done=True, by=unit_reporter)
    state = state_of(entry, at(2030, 1, 1))
    assert state.statuses[Indicator.LEVEL2].done and state.statuses[Indicator.LEVEL2].source == "entered"


def test_every_change_is_kept_with_who_when_old_and_new(exam_unit, unit_reporter):
    entry = add_staff(exam_unit)
    first = services.record_status(
        entry=entry,
        indicator=Indicator.LEVEL2,
        done=False,
        reason_code="NO_CHIP_ID",
        by=unit_reporter,
        effective_at=at(2024, 11, 5),
    )
    assert first is not None and first.old_done is None
    assert (
        services.record_status(
            entry=entry, indicator=Indicator.LEVEL2, done=False, reason_code="NO_CHIP_ID", by=unit_reporter
        )
        is None
    )
    second = services.record_status(
        entry=entry, indicator=Indicator.LEVEL2, done=True, by=unit_reporter, effective_at=at(2024, 12, 20)
    )
    assert second is not None
    assert (second.old_done, second.old_reason_code, second.done, second.reason_code) == (
        False,
        "NO_CHIP_ID",
        True,
        "",
    )
    assert second.changed_by == unit_reporter and second.changed_at is not None
    first.refresh_from_db()
    assert first.effective_to == at(2024, 12, 20)
    assert StatusChange.objects.filter(entry=entry, effective_to__isnull=True).count() == 1
    assert not state_of(entry, at(2024, 12, 1)).statuses[Indicator.LEVEL2].done
    assert state_of(entry, at(2024, 12, 31)).statuses[Indicator.LEVEL2].done
    with pytest.raises(DomainError) as refused:
        services.record_status(
            entry=entry,
            indicator=Indicator.LEVEL2,
            done=False,
            reason_code="DECLINED",
            by=unit_reporter,
            effective_at=at(2024, 12, 1),
        )
    assert refused.value.code == "ROLLOUT_STATUS_BACKDATED"


@pytest.mark.parametrize(
    ("indicator", "code", "text", "error"),
    [
        (Indicator.LEVEL2, "", "", "ROLLOUT_REASON_REQUIRED"),
        (Indicator.LEVEL2, "WRONG_NUMBER", "", "ROLLOUT_REASON_UNKNOWN"),
        (Indicator.CARD_LINKED, "OTHER", "", "ROLLOUT_OTHER_TEXT_REQUIRED"),
    ],
)
def test_a_not_yet_needs_a_reason_from_its_list(exam_unit, unit_reporter, indicator, code, text, error):
    entry = add_staff(exam_unit)
    with pytest.raises(DomainError) as refused:
        services.record_status(
            entry=entry, indicator=indicator, done=False, reason_code=code, reason_text=text, by=unit_reporter
        )
    assert refused.value.code == error


def test_the_quick_edit_saves_a_status_and_answers_the_updated_cell(exam_unit, unit_reporter):
    entry = add_staff(exam_unit, name="Võ Thị Mai")
    client = Client()
    client.force_login(unit_reporter)
    url = reverse("rollout:status_cell", args=[exam_unit.code, entry.pk, "card_linked"])
    form = client.get(url, HTTP_HX_REQUEST="true")
    assert form.status_code == 200 and "Lý do chưa thực hiện" in form.content.decode()
    bad = client.post(url, {"done": "0", "reason_code": ""}, HTTP_HX_REQUEST="true")
    assert "Vui lòng chọn lý do chưa thực hiện." in bad.content.decode()
    assert not StatusChange.objects.filter(entry=entry).exists()
    assert client.post(url, {"done": "0", "reason_code": ""}).status_code == 422
    saved = client.post(url, {"done": "0", "reason_code": "APP_OUTDATED"}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200
    assert "Ứng dụng VNeID cũ hơn phiên bản 2.0.4" in saved.content.decode()
    assert 'hx-swap-oob="true"' in saved.content.decode()
    change = StatusChange.objects.get(entry=entry)
    assert (change.indicator, change.done, change.reason_code, change.changed_by) == (
        "card_linked",
        False,
        "APP_OUTDATED",
        unit_reporter,
    )
    history = client.get(reverse("rollout:entry_edit", args=[exam_unit.code, entry.pk])).content.decode()
    assert "Chưa — Ứng dụng VNeID cũ hơn phiên bản 2.0.4" in history


def test_a_system_value_cannot_be_edited_in_the_page(exam_unit, unit_reporter):
    entry = add_staff(exam_unit)
    give_account(entry)
    client = Client()
    client.force_login(unit_reporter)
    assert (
        client.get(reverse("rollout:status_cell", args=[exam_unit.code, entry.pk, "level2"])).status_code
        == 404
    )


def test_a_book_activated_in_the_health_book_counts_as_created_from_its_activation(exam_unit):
    from soskdt.healthbook.models import Book

    entry = add_staff(exam_unit)
    user = give_account(entry)
    assert not state_of(entry, at(2024, 12, 31)).statuses[Indicator.BOOK_CREATED].done
    Book.objects.create(citizen=user.citizen, activated_at=at(2024, 12, 12))
    assert not state_of(entry, at(2024, 12, 11)).statuses[Indicator.BOOK_CREATED].done
    created = state_of(entry, at(2024, 12, 31)).statuses[Indicator.BOOK_CREATED]
    assert created.done and created.from_system
