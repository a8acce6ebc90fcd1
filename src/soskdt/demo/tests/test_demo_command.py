"""``soskdt demo``: default size and speed, --if-empty, --logins, and determinism."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from soskdt.demo import selectors
from soskdt.demo.builders import build_demo
from soskdt.identity.models import AccountKind, User
from soskdt.registry.models import Citizen, InsuranceCard

pytestmark = pytest.mark.django_db


def test_the_default_demo_has_about_2000_citizens_and_builds_fast(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    call_command("demo")
    elapsed = time.perf_counter() - started
    staff = User.objects.filter(kind=AccountKind.STAFF).exclude(username="admin").count()
    assert Citizen.objects.count() == 2000 + staff
    assert InsuranceCard.objects.count() > 2000
    assert User.objects.filter(kind=AccountKind.CITIZEN).count() > 800
    assert elapsed < 30
    out = capsys.readouterr().out
    assert "Đã tạo dữ liệu mẫu" in out
    assert selectors.persona("citizen") in out


def test_if_empty_does_nothing_on_a_second_run(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo", "--citizens", "150", "--if-empty")
    before = selectors.fingerprint(), Citizen.objects.count(), User.objects.count()
    capsys.readouterr()
    call_command("demo", "--citizens", "150", "--if-empty")
    assert "đã có sẵn" in capsys.readouterr().out
    assert (selectors.fingerprint(), Citizen.objects.count(), User.objects.count()) == before


def test_a_second_run_without_if_empty_refuses() -> None:
    call_command("demo", "--citizens", "150")
    with pytest.raises(CommandError):
        call_command("demo", "--citizens", "150")


def test_too_few_citizens_are_refused() -> None:
    with pytest.raises(CommandError):
        call_command("demo", "--citizens", "20")
    assert not selectors.demo_exists()


def test_logins_before_any_demo_says_how_to_load_it(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo", "--logins")
    assert "soskdt demo" in capsys.readouterr().out
    with pytest.raises(LookupError):
        selectors.persona("citizen")


def _fingerprint_of(seed: int, today: dt.date) -> str:
    with transaction.atomic():
        build_demo(today=today, seed=seed, citizens=150)
        fingerprint = selectors.fingerprint()
        transaction.set_rollback(True)
    return fingerprint


def test_the_same_seed_and_day_give_the_same_data() -> None:
    today = timezone.localdate()
    first = _fingerprint_of(2024, today)
    assert not Citizen.objects.exists()
    assert _fingerprint_of(2024, today) == first
    assert _fingerprint_of(7, today) != first


def test_cards_are_valid_relative_to_the_day_the_demo_is_loaded() -> None:
    later = timezone.localdate() + dt.timedelta(days=400)
    with transaction.atomic():
        result = build_demo(today=later, citizens=150)
        persona = result.citizen_personas["citizen"]
        assert InsuranceCard.objects.filter(
            holder_personal_id=persona.personal_id, valid_from__lte=later, valid_to__gte=later
        ).exists()
        transaction.set_rollback(True)
