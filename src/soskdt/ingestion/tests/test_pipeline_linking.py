"""Visits of people not in the register are kept, queued for operators, and linked once the person arrives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from soskdt import testing
from soskdt.healthbook.models import Visit
from soskdt.ingestion import samples
from soskdt.ingestion.tests.test_pipeline import (  # noqa: F401 - isolated_archive is an autouse fixture
    FACILITY,
    facility,
    ingest,
    isolated_archive,
    register,
    specs,
    write_file,
)
from soskdt.registry.models import Citizen
from soskdt.registry.signals import citizens_imported

pytestmark = pytest.mark.django_db


def citizens_csv(path: Path, patients: list[samples.Patient]) -> Path:
    lines = ["personal_id,full_name,birth_date,sex"]
    for p in patients:
        lines.append(f"{p.personal_id},{p.name},{p.birth[6:8]}/{p.birth[4:6]}/{p.birth[:4]},{p.sex}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def operator(org_tree: Any) -> Any:
    return testing.make_staff(org_unit=org_tree.centre, roles=[testing.Role.CENTRE_ADMIN])


def test_a_visit_of_someone_in_the_register_is_linked_at_once(tmp_path: Path) -> None:
    facility()
    visits = specs(2)
    register(visits[0].patient)
    submission = ingest(write_file(tmp_path / "a.xml", visits))
    assert (submission.visits_accepted, submission.visits_unlinked) == (2, 1)
    linked = Visit.objects.get(ma_lk=visits[0].ma_lk)
    assert linked.citizen is not None and linked.citizen.personal_id == visits[0].patient.personal_id


def test_unlinked_visits_wait_in_the_operator_queue_and_are_linked_when_the_registry_imports_the_person(
    tmp_path: Path, client: Client, operator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    facility()
    visits = specs(3)
    submission = ingest(write_file(tmp_path / "a.xml", visits))
    assert submission.visits_unlinked == 3
    client.force_login(operator)
    queue = client.get(reverse("ingestion:unlinked")).content.decode()
    for visit in visits:
        assert visit.ma_lk in queue and visit.patient.name in queue

    sent: list[Any] = []

    def spy(sender: Any, **kw: Any) -> None:
        sent.append(kw.get("personal_ids"))

    citizens_imported.connect(spy, dispatch_uid="test-spy")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            call_command(
                "registry", "import", "citizens", str(citizens_csv(tmp_path / "p.csv", [visits[0].patient]))
            )
    finally:
        citizens_imported.disconnect(dispatch_uid="test-spy")
    assert Citizen.objects.filter(personal_id=visits[0].patient.personal_id).exists()
    assert sent == [[visits[0].patient.personal_id]]  # the registry tells who arrived

    assert Visit.objects.get(ma_lk=visits[0].ma_lk).citizen_id is not None
    assert Visit.objects.filter(citizen__isnull=True).count() == 2
    queue = client.get(reverse("ingestion:unlinked")).content.decode()
    assert visits[0].ma_lk not in queue and visits[1].ma_lk in queue


def test_the_citizens_imported_signal_links_the_waiting_visits_after_commit(
    tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    facility()
    visits = specs(2)
    ingest(write_file(tmp_path / "a.xml", visits))
    with django_capture_on_commit_callbacks(execute=True):
        register(visits[1].patient)
        citizens_imported.send(sender=Citizen, personal_ids=[visits[1].patient.personal_id])
    assert Visit.objects.get(ma_lk=visits[1].ma_lk).citizen_id is not None
    assert Visit.objects.get(ma_lk=visits[0].ma_lk).citizen_id is None


def test_the_relink_button_links_every_visit_whose_person_has_appeared(
    tmp_path: Path, client: Client, operator: Any
) -> None:
    facility()
    visits = specs(3)
    ingest(write_file(tmp_path / "a.xml", visits))
    for visit in visits[:2]:
        register(visit.patient)  # written without the import, so nothing was signalled
    client.force_login(operator)
    response = client.post(reverse("ingestion:relink"), follow=True)
    assert response.status_code == 200
    assert "Đã liên kết 2 đợt khám" in response.content.decode()
    assert Visit.objects.filter(citizen__isnull=True).count() == 1
