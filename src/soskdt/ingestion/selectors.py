"""Reads of submissions for a viewer: a facility's key or submitter sees only that facility's files.

Centre and province administrators see every facility. Missing and forbidden are the same NotFound.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from soskdt.core.errors import NotFound
from soskdt.healthbook.models import Visit
from soskdt.healthbook.selectors import unlinked_visits
from soskdt.identity.models import Role
from soskdt.identity.permissions import has_permission
from soskdt.identity.selectors import role_set
from soskdt.ingestion.models import (
    FacilityApiKey,
    Submission,
    SubmissionSource,
    SubmissionStatus,
    SubmissionVisit,
)
from soskdt.registry.models import Facility

_ADMIN_ROLES = frozenset({Role.CENTRE_ADMIN, Role.PROVINCE_ADMIN})


def sees_every_facility(viewer: Any) -> bool:
    """Tell whether ``viewer`` (a user) watches the feed of every facility (centre and province admins)."""
    return has_permission(viewer, "ingestion.operate") and bool(role_set(viewer) & _ADMIN_ROLES)


def facility_scope(viewer: Any) -> int | None | bool:
    """The facility id ``viewer`` is limited to; True for every facility; None for nothing at all."""
    if isinstance(viewer, FacilityApiKey):
        return viewer.facility_id
    if not has_permission(viewer, "ingestion.operate"):
        return None
    if role_set(viewer) & _ADMIN_ROLES:
        return True
    return viewer.facility_id  # a submitter without a facility sees nothing


def submissions_for(viewer: Any) -> QuerySet[Submission]:
    """Submissions ``viewer`` may see: all for centre/province admins, own facility for keys and submitters."""
    qs = Submission.objects.select_related("facility")
    scope = facility_scope(viewer)
    if scope is True:
        return qs
    if scope is None or scope is False:
        return qs.none()
    return qs.filter(facility_id=scope)


def get_submission_for(viewer: Any, submission_id: Any) -> Submission:
    """One submission ``viewer`` may see; missing, forbidden and malformed ids are the same NotFound."""
    try:
        found = submissions_for(viewer).filter(pk=submission_id).first()
    except (ValueError, TypeError, ValidationError):
        found = None
    if found is None:
        raise NotFound("SUBMISSION_NOT_FOUND")
    return found


def can_reprocess(viewer: Any) -> bool:
    """Centre and province administrators may run an archived file again."""
    return sees_every_facility(viewer)


def can_upload(viewer: Any) -> bool:
    """A facility's submitter sends files for that facility from the upload page."""
    return has_permission(viewer, "ingestion.submit") and getattr(viewer, "facility_id", None) is not None


def filter_submissions(
    qs: QuerySet[Submission], *, status: str | None = None, facility_code: str | None = None
) -> QuerySet[Submission]:
    if status in SubmissionStatus.values:
        qs = qs.filter(status=status)
    if facility_code:
        qs = qs.filter(Q(facility__code=facility_code) | Q(envelope_facility_code=facility_code))
    return qs


def facilities_for(viewer: Any) -> QuerySet[Facility]:
    """Facilities offered in ``viewer``'s filters: their own, or every facility that has a key or has sent."""
    scope = facility_scope(viewer)
    if scope is None or scope is False:
        return Facility.objects.none()
    if scope is True:
        senders = Q(pk__in=Submission.objects.values("facility_id")) | Q(
            pk__in=FacilityApiKey.objects.values("facility_id")
        )
        return Facility.objects.filter(senders).order_by("code")
    return Facility.objects.filter(pk=scope)


def problem_rows(submission: Submission) -> QuerySet[SubmissionVisit]:
    """HOSO of a submission that carry errors or warnings, in file order."""
    return (
        SubmissionVisit.objects.filter(submission=submission)
        .exclude(errors=[], warnings=[])
        .only("index", "ma_lk", "outcome", "errors", "warnings")
        .order_by("index")
    )


def unlinked_queue(viewer: Any) -> QuerySet[Visit]:
    """Visits not linked to a citizen yet, oldest first: every facility's, or the viewer's own."""
    qs = unlinked_visits()
    scope = facility_scope(viewer)
    if scope is None or scope is False:
        return qs.none()
    if scope is not True:
        qs = qs.filter(facility_id=scope)
    return qs.only(
        "id", "facility_code", "ma_lk", "full_name", "personal_id", "card_codes", "received_at", "admitted_at"
    )


@dataclass(frozen=True, slots=True)
class DayCount:
    day: dt.date
    visits: int = 0
    rejected: int = 0
    files: int = 0
    failed_files: int = 0

    @property
    def has_data(self) -> bool:
        return self.files > 0


@dataclass(slots=True)
class FacilityDays:
    code: str
    name: str
    days: list[DayCount] = field(default_factory=list)

    @property
    def visits(self) -> int:
        return sum(d.visits for d in self.days)

    @property
    def rejected(self) -> int:
        return sum(d.rejected for d in self.days)


def daily_counts(
    viewer: Any, *, days: int = 14, today: dt.date | None = None
) -> tuple[list[dt.date], list[FacilityDays]]:
    """Feed completeness: visits received and rejected per facility and day (local), for the last ``days``.

    Rows are the facilities in ``viewer``'s scope that have a key or have ever sent, plus any code seen in the
    window; a day with no file is an empty cell (``has_data`` False), not a zero. Re-processing is not a
    receipt and is left out. Three queries whatever the size of the feed.
    """
    today = today or timezone.localdate()
    day_list = [today - dt.timedelta(days=i) for i in range(days)]
    since = timezone.make_aware(dt.datetime.combine(day_list[-1], dt.time.min))
    scope = facility_scope(viewer)
    if scope is None or scope is False:
        return day_list, []
    received = Submission.objects.filter(received_at__gte=since).exclude(source=SubmissionSource.REPROCESS)
    if scope is not True:
        received = received.filter(facility_id=scope)
    rows = (
        received.annotate(day=TruncDate("received_at"))
        .values("envelope_facility_code", "facility__code", "day")
        .annotate(
            visit_count=Sum("visits_total"),
            rejected=Sum("visits_rejected"),
            files=Count("id"),
            failed_files=Count("id", filter=Q(status=SubmissionStatus.FAILED)),
        )
    )
    cells: dict[tuple[str, dt.date], DayCount] = {}
    for row in rows:
        code = row["envelope_facility_code"] or row["facility__code"] or "?"
        key = (code, row["day"])
        before = cells.get(key, DayCount(row["day"]))
        cells[key] = DayCount(
            row["day"],
            before.visits + (row["visit_count"] or 0),
            before.rejected + (row["rejected"] or 0),
            before.files + row["files"],
            before.failed_files + row["failed_files"],
        )
    names = {f.code: f.name for f in facilities_for(viewer).only("code", "name")}
    codes = sorted(set(names) | {code for code, _day in cells})
    grid = [
        FacilityDays(code, names.get(code, ""), [cells.get((code, day), DayCount(day)) for day in day_list])
        for code in codes
    ]
    return day_list, grid
