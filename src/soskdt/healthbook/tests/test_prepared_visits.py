"""A visit made ready ahead of time (``prepare_visit``, in a parse helper) is recorded exactly as its input would be."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
from decimal import Decimal
from typing import Any

import pytest

from soskdt.healthbook import fieldmap as fm
from soskdt.healthbook.models import (
    ClinicalNote,
    DischargePaper,
    DrugLine,
    FollowUp,
    RawDocument,
    RecordSummary,
    Referral,
    Result,
    ServiceLine,
    Visit,
    VisitVersion,
)
from soskdt.healthbook.records import VisitInput, VisitStatus
from soskdt.healthbook.services import PreparedVisit, prepare_visit, record_visits
from soskdt.healthbook.tests.factories import make_visit_input
from soskdt.registry.models import Facility

MODELS = [
    Visit,
    DrugLine,
    ServiceLine,
    Result,
    ClinicalNote,
    DischargePaper,
    RecordSummary,
    Referral,
    FollowUp,
]
# Set from the clock or the sequences when the rows are written, not from what was sent.
UNSTABLE = {"id", "visit_id", "service_line_id", "created_at", "updated_at", "linked_at", "replaced_at"}


def _awkward_inputs() -> list[VisitInput]:
    plain = make_visit_input(ma_lk="LK-A")
    odd = make_visit_input(ma_lk="LK-B", drugs=2, services=3, results=3, notes=1)
    odd.summary["GHI_CHU"] = "Dòng 1\tcột\nDòng 2\r\nC:\\thu muc\\N\\"
    odd.summary["NEW_FIELD"] = "từ quyết định sau"
    odd.summary["SO_NGAY_DTRI"] = -3  # kept as text, with a warning
    odd.drugs[1]["SO_LUONG"] = "mười"
    odd.drugs[1]["STT"] = "2a"
    odd.drugs[0]["MA_NHOM"] = "04"  # a code as text in an integer column
    odd.services[0]["MA_BENH"] = ["J15.9", "I10"]
    odd.services[1]["MA_LK"] = "LK-OTHER"  # another key than the visit's: kept in extra
    del odd.services[2]["STT"]
    odd.results[0]["GIA_TRI"] = Decimal("5.20")
    odd.raw_documents = {"XML9": [{"text": "a\tb"}], "XML15": {"MA_LK": "LK-B"}}
    bare = make_visit_input(ma_lk="LK-C", drugs=0, services=0, results=0, notes=0, documents=False)
    return [plain, odd, bare]


def _stored() -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    for model in MODELS:
        columns = [f.attname for f in model._meta.concrete_fields if f.attname not in UNSTABLE]
        rows[model.__name__] = sorted(
            model._default_manager.values(*columns), key=lambda row: repr(sorted(row.items(), key=repr))
        )
    rows["RawDocument"] = sorted(
        (dict(row) for row in RawDocument.objects.values("table", "payload")), key=repr
    )
    return rows


def _outcomes(outcomes: list[Any]) -> list[Any]:
    return [(o.facility_code, o.ma_lk, o.status, o.version, o.citizen_id, o.warnings) for o in outcomes]


@pytest.mark.django_db
def test_prepared_visits_store_the_same_rows_as_their_inputs(facility: Facility) -> None:
    inputs = _awkward_inputs()
    as_sent = _outcomes(record_visits(visits=copy.deepcopy(inputs)))
    expected = _stored()
    Visit.objects.all().delete()

    prepared = [pickle.loads(pickle.dumps(prepare_visit(v))) for v in copy.deepcopy(inputs)]
    assert all(isinstance(p, PreparedVisit) for p in prepared)
    assert _outcomes(record_visits(visits=prepared)) == as_sent
    assert _stored() == expected
    assert any(w["code"] == fm.VALUE_KEPT_AS_TEXT for o in as_sent for w in o[5])


@pytest.mark.django_db
def test_prepared_and_plain_inputs_of_a_visit_recognise_each_other(facility: Facility) -> None:
    sent = make_visit_input(ma_lk="LK-1")
    record_visits(visits=[sent])

    assert record_visits(visits=[prepare_visit(sent)])[0].status == VisitStatus.UNCHANGED
    corrected = copy.deepcopy(sent)
    corrected.drugs[0]["SO_LUONG"] = 99
    [outcome] = record_visits(visits=[prepare_visit(corrected)])
    assert (outcome.status, outcome.version) == (VisitStatus.REPLACED, 2)
    assert VisitVersion.objects.get().version == 1
    assert record_visits(visits=[corrected])[0].status == VisitStatus.UNCHANGED
    # In one batch, prepared or not, the same visit twice is applied in order.
    again = copy.deepcopy(corrected)
    again.summary["GHI_CHU"] = "lần 3"
    statuses = [o.status for o in record_visits(visits=[prepare_visit(again), again, corrected])]
    assert statuses == [VisitStatus.REPLACED, VisitStatus.UNCHANGED, VisitStatus.REPLACED]
    assert Visit.objects.get().version == 4


@pytest.mark.django_db
def test_a_prepared_visit_keeps_what_linking_needs(facility: Facility) -> None:
    sent = make_visit_input(ma_lk="LK-9", personal_id="079085001234")
    prepared = prepare_visit(sent)
    assert prepared.key == (sent.facility_code, sent.ma_lk)
    assert prepared.candidate.personal_id == "079085001234"
    assert prepared.visit_year == 2025 and prepared.birth_date == dt.date(1985, 3, 15)
    assert len(prepared.service_categories) == len(sent.services)
    assert len(prepared.result_services) == len(sent.results)
    assert set(prepared.parts) <= {"drugs", "services", "results", "notes", "discharge_paper", "record_summary",
                                    "referral", "follow_up", "raw_documents"}  # fmt: skip
