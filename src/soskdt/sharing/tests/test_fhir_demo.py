"""Every demo citizen's book exports as a valid FHIR document Bundle (the figure goes in docs/fhir.md)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from soskdt.demo.builders import DemoResult, build_demo
from soskdt.demo.builders.books import build_demo_books
from soskdt.demo.builders.visits import build_demo_visits
from soskdt.healthbook.models import Visit
from soskdt.healthbook.scope import Scope
from soskdt.sharing import fhir
from soskdt.sharing.summary import clinical_summary


@pytest.fixture(scope="module")
def demo(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoResult]:
    folder: Path = tmp_path_factory.mktemp("demo")
    previous = settings.ARCHIVE_ROOT
    settings.ARCHIVE_ROOT = folder / "archive"
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            # The default demo (the one `soskdt demo` loads), through the ingestion pipeline.
            result = build_demo(today=timezone.localdate())
            build_demo_visits(result, folder=folder / "xml")
            build_demo_books(result)
            yield result
            transaction.set_rollback(True)
    finally:
        settings.ARCHIVE_ROOT = previous


def test_every_demo_citizen_with_visits_gets_a_valid_bundle(
    demo: DemoResult, db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    visits_of = Counter(Visit.objects.filter(citizen__isnull=False).values_list("citizen_id", flat=True))
    assert len(visits_of) > 300
    now = timezone.now()
    valid = 0
    kinds: Counter[str] = Counter()
    for citizen_id, visits in sorted(visits_of.items()):
        bundle = fhir.build_bundle(
            citizen_id=citizen_id, scope=Scope.full(), generated_at=now, synced_only=False
        )
        fhir.validate(bundle)
        found = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
        assert found["Encounter"] == visits, citizen_id
        urls = {e["fullUrl"] for e in bundle["entry"]}
        assert set(fhir.references(bundle)) <= urls, citizen_id
        kinds.update(found)
        valid += 1
    with capsys.disabled():
        print(
            f"\nFHIR: {valid} demo citizens, {sum(visits_of.values())} visits, every bundle valid; {dict(kinds)}"
        )
    assert valid == len(visits_of)
    assert kinds["Condition"] and kinds["MedicationStatement"] and kinds["Observation"]
    assert kinds["DiagnosticReport"] and kinds["Procedure"] and kinds["Coverage"]


def test_the_summary_reads_every_demo_book_within_a_shared_scope(demo: DemoResult, db: None) -> None:
    from soskdt.identity.models import User
    from soskdt.sharing.tests.test_summary_support import open_book

    user = User.objects.get(username=demo.personas["citizen"])
    open_book(user)
    scope = Scope()  # every category, no HIV: what a clinician sees by default
    for citizen_id in sorted(
        set(Visit.objects.filter(citizen__isnull=False).values_list("citizen_id", flat=True))
    ):
        summary = clinical_summary(citizen_id=citizen_id, scope=scope, since=None)
        assert all(d.count >= 1 for d in summary.diagnoses)
    persona = clinical_summary(citizen_id=user.citizen_id or 0, scope=scope, since=None)
    assert persona.visits == Visit.objects.filter(citizen_id=user.citizen_id).count() > 0
    assert persona.diagnoses
