"""``soskdt export-book``: a valid FHIR or JSON file of the whole book, logged as an operator's read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from soskdt import testing
from soskdt.healthbook.models import AccessLog, ActorKind, Book
from soskdt.identity.models import User
from soskdt.sharing import fhir
from soskdt.sharing.tests.test_summary_support import citizen_of, drug, lab, local, open_book, record, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(citizen: User) -> User:
    person = citizen_of(citizen)
    record(
        person,
        admitted_at=local(2025, 5, 1),
        icds=("B20", "I10"),
        drugs=[drug("Tenofovir + Lamivudin + Dolutegravir", dose="* 30 ngày"), drug("Amlodipin 5mg")],
        results=[lab("GLU", "Glucose", "7.1", "mmol/L"), report("imaging", "X-quang ngực", "Bình thường")],
        follow_up_at=local(2025, 6, 1),
    )
    open_book(citizen)
    # Arrived after the last sync: not in the book yet, but held about the person, so exported.
    record(person, admitted_at=local(2025, 6, 2), icds=("J45.9",))
    return citizen


def export_rows(user: User) -> list[AccessLog]:
    return list(AccessLog.objects.filter(owner_id=user.citizen_id, action="book.export"))


def test_fhir_export_writes_a_valid_bundle_and_logs_the_operators_read(
    book: User, centre_admin: User, tmp_path: Path
) -> None:
    target = tmp_path / "so.fhir.json"

    call_command(
        "export_book",
        citizen_of(book).personal_id,
        "--format",
        "fhir",
        "-o",
        str(target),
        "--operator",
        centre_admin.username,
    )

    bundle = json.loads(target.read_text(encoding="utf-8"))
    fhir.validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Encounter") == 2
    text = target.read_text(encoding="utf-8")
    assert "B20" in text and "J45.9" in text  # everything held about the person
    (row,) = export_rows(book)
    assert row.actor_kind == ActorKind.OPERATOR and row.actor_id == centre_admin.pk and row.target == "fhir"
    assert "export-book" in row.user_agent


def test_json_export_holds_every_visit_with_its_items(book: User, tmp_path: Path) -> None:
    target = tmp_path / "so.json"

    call_command("export_book", citizen_of(book).personal_id, "--format", "json", "-o", str(target))

    data = json.loads(target.read_text(encoding="utf-8"))
    assert (
        data["format"] == "soskdt-book-export"
        and data["citizen"]["personal_id"] == citizen_of(book).personal_id
    )
    assert [v["main_icd"] for v in data["visits"]] == ["B20", "J45.9"]
    first = data["visits"][0]
    assert [d["name"] for d in first["drugs"]] == ["Tenofovir + Lamivudin + Dolutegravir", "Amlodipin 5mg"]
    assert {r["indicator_name"] for r in first["results"]} == {"Glucose", "X-quang ngực"}
    assert first["follow_up"]["appointment_at"].startswith("2025-06-01")
    assert first["visit_type_label"] and first["facility_name"]
    (row,) = export_rows(book)
    assert row.actor_id is None and row.actor_kind == ActorKind.OPERATOR and row.target == "json"


def test_a_person_who_never_opened_their_book_can_still_be_exported(db: None, tmp_path: Path) -> None:
    person = testing.make_citizen(birth_year=1960)
    record(person, admitted_at=local(2025, 1, 1))
    target = tmp_path / "so.json"

    call_command("export_book", person.personal_id, "--format", "fhir", "-o", str(target))

    fhir.validate(json.loads(target.read_text(encoding="utf-8")))
    book = Book.objects.get(citizen=person)
    assert book.activated_at is None
    assert AccessLog.objects.filter(owner=person, action="book.export").count() == 1


def test_an_unknown_personal_id_is_refused_in_vietnamese_with_status_2(db: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("export_book", "079099999999", "-o", str(tmp_path / "x.json"))
    assert caught.value.returncode == 2
    assert "Không tìm thấy công dân" in str(caught.value)
    assert not (tmp_path / "x.json").exists()
    assert AccessLog.objects.count() == 0


def test_an_unknown_operator_is_refused(book: User, tmp_path: Path) -> None:
    with pytest.raises(CommandError) as caught:
        call_command(
            "export_book", citizen_of(book).personal_id, "-o", str(tmp_path / "x.json"), "--operator", "ai-do"
        )
    assert caught.value.returncode == 2 and "cán bộ" in str(caught.value)
    assert export_rows(book) == []


def test_it_is_a_sub_command_of_soskdt() -> None:
    from soskdt.cli import project_commands

    # (Running cli.main here would close the test's database connection: run_from_argv closes them all.)
    assert "export-book" in project_commands()
