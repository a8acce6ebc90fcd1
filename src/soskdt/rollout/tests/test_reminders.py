"""Reminders: e-mailed 3 days before the deadline to reporters of units without a report, once each."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command

from soskdt import testing
from soskdt.identity.models import Role
from soskdt.rollout import services
from soskdt.rollout.models import ReminderSent
from soskdt.rollout.periods import Period
from soskdt.rollout.tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def reporters(org_tree, unit_reporter):
    unit_reporter.email = "hung@ttyt.local"
    unit_reporter.save(update_fields=["email"])
    planning = testing.make_staff(org_unit=org_tree.departments[1], roles=[Role.UNIT_REPORTER])
    planning.email = "khnv@ttyt.local"
    planning.save(update_fields=["email"])
    report = services.start_report(unit=org_tree.departments[1], period=Period(2024, 12), by=planning)
    services.submit_report(report=report, by=planning, now=at(2025, 1, 3))
    return unit_reporter


def test_reminders_go_once_to_units_without_a_report_from_3_days_before_the_deadline(org_tree, reporters):
    assert services.send_reminders(today=dt.date(2025, 1, 6)) == [] or not mail.outbox
    runs = services.send_reminders(today=dt.date(2025, 1, 7))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["hung@ttyt.local"]
    assert "12/2024" in message.subject and "trước ngày 10/01/2025" in message.body
    # The station has no reporter with an e-mail address: it is listed, not silently forgotten.
    assert org_tree.station.code in [code for run in runs for code in run.skipped_no_recipient]
    services.send_reminders(today=dt.date(2025, 1, 8))
    call_command("rollout_remind", "--date", "2025-01-09", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert len(mail.outbox) == 1
    assert ReminderSent.objects.count() == 1
    services.send_reminders(today=dt.date(2025, 1, 10))
    assert len(mail.outbox) == 1


def test_the_dashboard_button_sends_outside_the_window_but_still_once(org_tree, reporters, centre_admin):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(centre_admin)
    client.post(reverse("rollout:send_reminders"))
    # Last month's report is missing in both departments (the one submitted was for December 2024).
    assert sorted(m.to[0] for m in mail.outbox) == ["hung@ttyt.local", "khnv@ttyt.local"]
    client.post(reverse("rollout:send_reminders"))
    assert len(mail.outbox) == 2
