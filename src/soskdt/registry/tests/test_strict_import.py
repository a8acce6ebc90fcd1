from __future__ import annotations

from unittest import mock

import pytest
from django.db import DatabaseError

from soskdt.registry.models import Citizen, InsuranceCard
from soskdt.registry.services import CitizenImport
from soskdt.registry.tests.helpers import (
    CARD_HEADER,
    CITIZEN_HEADER,
    card_row,
    citizen_row,
    codes,
    run_import,
)

pytestmark = pytest.mark.django_db


def test_strict_import_with_one_bad_row_loads_nothing_and_still_reports_every_error(write_csv):
    rows = [citizen_row(f"0010900{i:05d}") for i in range(5)] + [
        citizen_row("bad"),
        citizen_row("001090000009", sex="X"),
    ]

    result = run_import("citizens", write_csv(CITIZEN_HEADER, rows), strict=True, batch_size=2)

    assert result.rolled_back
    assert (result.rows, result.created, result.updated, result.unchanged, result.rejected) == (7, 0, 0, 0, 2)
    assert codes(result) == ["PERSONAL_ID_INVALID", "SEX_INVALID"]
    assert result.exit_status == 1
    assert not Citizen.objects.exists()


def test_strict_import_of_a_good_file_loads_everything(write_csv):
    rows = [citizen_row(f"0010900{i:05d}") for i in range(5)]

    result = run_import("citizens", write_csv(CITIZEN_HEADER, rows), strict=True, batch_size=2)

    assert (result.created, result.exit_status, result.rolled_back) == (5, 0, False)
    assert Citizen.objects.count() == 5


def test_strict_import_rolls_back_earlier_batches_when_a_later_card_overlaps(write_csv):
    rows = [card_row(f"GD47979000000{i:02d}", f"0790900000{i:02d}") for i in range(4)]
    rows.append(card_row("HS4797900000001", "079090000001", valid_from="01/06/2025", valid_to="31/05/2026"))

    result = run_import("cards", write_csv(CARD_HEADER, rows), strict=True, batch_size=1)

    assert codes(result) == ["CARD_PERIOD_OVERLAP"]
    assert not InsuranceCard.objects.exists()


def test_without_strict_the_good_rows_of_the_same_file_load(write_csv):
    rows = [citizen_row(f"0010900{i:05d}") for i in range(5)] + [citizen_row("bad")]

    result = run_import("citizens", write_csv(CITIZEN_HEADER, rows), batch_size=2)

    assert (result.created, result.rejected, result.rolled_back) == (5, 1, False)
    assert Citizen.objects.count() == 5


def test_a_database_failure_stops_the_import_keeps_earlier_batches_and_rolls_back_its_own(write_csv):
    rows = [citizen_row(f"0010900{i:05d}") for i in range(6)]
    real_load = CitizenImport.load
    calls = []

    def fail_on_second_batch(self, batch):
        calls.append(len(batch))
        real_load(self, batch)
        if len(calls) == 2:
            raise DatabaseError("disk full")

    with mock.patch.object(CitizenImport, "load", fail_on_second_batch):
        result = run_import("citizens", write_csv(CITIZEN_HEADER, rows), batch_size=2)

    assert result.exit_status == 2
    assert [(p.code, p.row) for p in result.errors] == [("IMPORT_INTERRUPTED", 4)]
    assert result.created == 2
    assert sorted(Citizen.objects.values_list("personal_id", flat=True)) == ["001090000000", "001090000001"]
