"""The demo's visits: realistic QĐ 130 files for the demo citizens, loaded through the ingestion pipeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from soskdt.demo.builders import DemoResult, build_demo
from soskdt.demo.builders.visits import DemoVisits, build_demo_visits
from soskdt.healthbook.models import DrugLine, FollowUp, Referral, Result, ServiceCategory, ServiceLine, Visit
from soskdt.ingestion.models import Submission, SubmissionSource, SubmissionStatus

DEMO_FACILITIES = {"89010", "89011", "89012"}


@pytest.fixture(scope="module")
def demo(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DemoResult, DemoVisits]]:
    from django.conf import settings

    folder = tmp_path_factory.mktemp("demo")
    previous = settings.ARCHIVE_ROOT
    settings.ARCHIVE_ROOT = folder / "archive"
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            result = build_demo(today=timezone.localdate(), citizens=400)
            yield result, build_demo_visits(result, folder=folder / "xml")
            transaction.set_rollback(True)
    finally:
        settings.ARCHIVE_ROOT = previous


@pytest.fixture
def built(demo: tuple[DemoResult, DemoVisits], db: None) -> tuple[DemoResult, DemoVisits]:
    return demo


def test_the_files_are_written_and_loaded_as_demo_submissions(built: tuple[DemoResult, DemoVisits]) -> None:
    _result, visits = built
    assert visits.files and all(Path(f).exists() and f.suffix == ".xml" for f in visits.files)
    submissions = Submission.objects.filter(source=SubmissionSource.DEMO)
    assert submissions.count() == len(visits.files)
    assert set(submissions.values_list("status", flat=True)) == {SubmissionStatus.DONE}
    assert set(submissions.values_list("facility__code", flat=True)) == DEMO_FACILITIES
    counts = visits.counts()
    assert counts["visits"] == Visit.objects.count() + counts["rejected"]
    assert counts["rejected"] == 1  # the deliberate mistake
    assert counts["unlinked"] >= 2  # the visitors from another province


def test_the_personas_have_several_visits_over_years_at_several_facilities(
    built: tuple[DemoResult, DemoVisits],
) -> None:
    result, _visits = built
    for key in ("citizen", "child"):
        person = result.citizen_personas[key]
        visits = Visit.objects.filter(citizen__personal_id=person.personal_id)
        assert visits.count() >= 3, key
        years = {v.admitted_at.year for v in visits}
        assert len(years) >= 2 or key == "child", (key, years)
        assert visits.filter(admitted_at__gte=timezone.now() - dt.timedelta(days=14)).exists(), key
    citizen = result.citizen_personas["citizen"]
    assert (
        Visit.objects.filter(citizen__personal_id=citizen.personal_id)
        .values("facility_code")
        .distinct()
        .count()
        >= 2
    )


def test_every_kind_of_visit_is_there_with_vietnamese_names(built: tuple[DemoResult, DemoVisits]) -> None:
    assert set(Visit.objects.values_list("visit_type", flat=True)) >= {"01", "03", "07"}
    categories = set(ServiceLine.objects.values_list("category", flat=True))
    assert {
        ServiceCategory.LAB,
        ServiceCategory.IMAGING,
        ServiceCategory.FUNCTIONAL,
        ServiceCategory.SURGERY,
    } <= categories
    assert Result.objects.exclude(conclusion__isnull=True).exclude(conclusion="").exists()  # imaging, ECG
    assert Result.objects.exclude(value__isnull=True).exclude(value="").exists()  # labs
    assert Referral.objects.exists() and FollowUp.objects.exists()
    assert DrugLine.objects.filter(name="Paracetamol").exists()
    assert ServiceLine.objects.filter(name__contains="Điện tim").exists()
    assert set(Visit.objects.values_list("facility_code", flat=True)) == DEMO_FACILITIES


def test_the_last_two_weeks_have_daily_files_and_the_station_is_silent_on_sundays(
    built: tuple[DemoResult, DemoVisits],
) -> None:
    since = timezone.now() - dt.timedelta(days=14)
    recent = Submission.objects.filter(source=SubmissionSource.DEMO, received_at__gte=since)
    assert recent.values("envelope_facility_code").distinct().count() >= 2
    station_days = {
        timezone.localtime(s.received_at).weekday() for s in recent.filter(envelope_facility_code="89012")
    }
    assert 6 not in station_days


def test_visits_are_in_the_past_and_linked_to_the_register_except_the_visitors(
    built: tuple[DemoResult, DemoVisits],
) -> None:
    now = timezone.now()
    assert not Visit.objects.filter(discharged_at__gt=now).exists()
    unlinked = Visit.objects.filter(citizen__isnull=True)
    assert unlinked.exists() and not unlinked.filter(personal_id__startswith="089").exists()
