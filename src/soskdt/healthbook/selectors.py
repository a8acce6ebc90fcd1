"""Reads of visits needed by ingestion and operations (the citizen's book reads come later)."""

from __future__ import annotations

from django.db.models import QuerySet

from soskdt.healthbook.models import Visit, VisitVersion
from soskdt.healthbook.records import VisitInput
from soskdt.healthbook.services import stored_visit_inputs


def unlinked_visits() -> QuerySet[Visit]:
    """Visits not yet linked to a citizen, oldest first (served by a partial index)."""
    return Visit.objects.filter(citizen__isnull=True).order_by("id")


def visit_as_sent(*, visit_id: int) -> VisitInput:
    """The current version of a visit as the pipeline sent it (field name → value); raises Visit.DoesNotExist."""
    found = stored_visit_inputs([visit_id])
    if visit_id not in found:
        raise Visit.DoesNotExist(visit_id)
    return found[visit_id]


def visit_versions(*, visit_id: int) -> QuerySet[VisitVersion]:
    """Replaced versions of a visit, oldest first; each ``payload`` holds that version as sent."""
    return VisitVersion.objects.filter(visit_id=visit_id).order_by("version")
