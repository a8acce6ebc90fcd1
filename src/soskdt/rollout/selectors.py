"""Reads of the roll-out tracker: which units a viewer may see, rosters, and every staff member's statuses.

Scope: a unit reporter sees their own unit; a centre or province administrator sees every reporting unit
below their own unit (over time: units closed by a reorganisation stay visible for their months); reception
staff see only their own unit's reception form (and unit reporters that form too); anybody else sees
nothing. Missing and forbidden are the same ``NotFound``.

Statuses are computed in bulk: one query for the roster, one for the entered statuses, one each for the
identity, wallet and health-book facts (through those apps' selectors), then a pass in Python.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from soskdt.core import reasons
from soskdt.core.errors import NotFound
from soskdt.healthbook.rollout_selectors import (
    book_tracking_available,
    books_created_for,
    citizens_with_book,
)
from soskdt.identity.models import User
from soskdt.identity.permissions import has_permission
from soskdt.identity.selectors import AccountFacts, citizen_accounts_for
from soskdt.registry.models import OrgUnit, OrgUnitKind
from soskdt.registry.selectors import residents_of_area, unit_descendants
from soskdt.rollout.models import (
    REASON_CATEGORY,
    Campaign,
    CoverageFigure,
    Indicator,
    MonthlyReport,
    ReceptionHelp,
    RosterEntry,
    StatusChange,
)
from soskdt.rollout.periods import local_zone
from soskdt.wallet.selectors import (
    citizens_with_card,
    first_card_linked_at,
    why_not_linked_by_personal_id,
)

REPORT_UNIT = "rollout.report_unit"
ADMIN_CENTRE = "rollout.admin_centre"
GUIDE_PATIENTS = "rollout.guide_patients"

#: Units that report (one Appendix 1 each): departments and commune stations (and hospitals, others).
REPORTING_KINDS: tuple[str, ...] = (
    OrgUnitKind.DEPARTMENT,
    OrgUnitKind.COMMUNE_STATION,
    OrgUnitKind.HOSPITAL,
    OrgUnitKind.OTHER,
)
#: A "not yet" without a reason given.
UNKNOWN_REASON = "UNKNOWN"
UNKNOWN_REASON_LABEL = _("Chưa rõ lý do")

# Plain-string keys: enum member access costs more than the rest of the resolution on 50,000 staff.
LEVEL2, VNEID, BOOK, CARD = "level2", "vneid_installed", "book_created", "card_linked"
INDICATORS: tuple[str, ...] = (LEVEL2, VNEID, BOOK, CARD)
assert set(INDICATORS) == set(Indicator.values)

SOURCE_SYSTEM = "system"
SOURCE_ENTERED = "entered"
SOURCE_NONE = "none"


# --- scope ---------------------------------------------------------------------------------------------


def is_admin(viewer: Any) -> bool:
    return has_permission(viewer, ADMIN_CENTRE)


def is_reporter(viewer: Any) -> bool:
    return has_permission(viewer, REPORT_UNIT)


def can_guide_patients(viewer: Any) -> bool:
    """Whether ``viewer`` records patients helped at reception (reception staff and unit reporters)."""
    return has_permission(viewer, GUIDE_PATIENTS)


def _overlapping(start: dt.date, end: dt.date) -> Q:
    return Q(valid_from__lte=end) & (Q(valid_to__isnull=True) | Q(valid_to__gte=start))


def visible_units(viewer: Any, start: dt.date, end: dt.date | None = None) -> list[OrgUnit]:
    """The reporting units ``viewer`` may see that existed at some time between ``start`` and ``end``."""
    end = end or start
    if is_admin(viewer) and viewer.org_unit_id is not None:
        below = unit_descendants(viewer.org_unit).filter(_overlapping(start, end), kind__in=REPORTING_KINDS)
        return _in_report_order(below)
    if is_reporter(viewer) and viewer.org_unit_id is not None:
        unit = viewer.org_unit
        return [unit] if unit.kind in REPORTING_KINDS else []
    return []


def _in_report_order(units: QuerySet[OrgUnit]) -> list[OrgUnit]:
    # Departments first, then the commune stations, each by code: the order of the consolidated table.
    order = {kind: i for i, kind in enumerate(REPORTING_KINDS)}
    return sorted(units, key=lambda u: (order.get(u.kind, 9), u.code))


def unit_for(viewer: Any, code: str) -> OrgUnit:
    """The reporting unit ``code`` if ``viewer`` may see it; otherwise NotFound (missing or forbidden)."""
    unit = OrgUnit.objects.filter(code=code, kind__in=REPORTING_KINDS).select_related("parent").first()
    if unit is None:
        raise NotFound()
    if (
        is_admin(viewer)
        and viewer.org_unit_id is not None
        and unit_descendants(viewer.org_unit).filter(pk=unit.pk).exists()
    ):
        return unit
    if is_reporter(viewer) and viewer.org_unit_id == unit.pk:
        return unit
    raise NotFound()


def can_edit_unit(viewer: Any, unit: OrgUnit) -> bool:
    """Only the unit's own reporters enter its roster, statuses, records and report texts."""
    return is_reporter(viewer) and viewer.org_unit_id == unit.pk


def home_unit(viewer: Any) -> OrgUnit:
    """The unit of a unit reporter (NotFound for anybody else or an account without a reporting unit)."""
    if not is_reporter(viewer) or viewer.org_unit_id is None or viewer.org_unit.kind not in REPORTING_KINDS:
        raise NotFound()
    return viewer.org_unit


def reception_unit(viewer: Any, code: str | None = None) -> OrgUnit:
    """The unit whose reception form ``viewer`` fills: their own reporting unit, and only it.

    With ``code``, that unit must be the viewer's own; NotFound otherwise (another unit, no permission, an
    account without a reporting unit), the same answer as for a unit that does not exist.
    """
    if not can_guide_patients(viewer) or viewer.org_unit_id is None:
        raise NotFound()
    unit = viewer.org_unit
    if unit.kind not in REPORTING_KINDS or (code is not None and unit.code != code):
        raise NotFound()
    return unit


def reception_record_of(viewer: Any, unit: OrgUnit, record_id: int) -> ReceptionHelp:
    """A reception record of ``unit`` written by ``viewer`` (only one's own records can be undone)."""
    record = ReceptionHelp.objects.filter(pk=record_id, unit=unit, recorded_by_id=viewer.pk).first()
    if record is None:
        raise NotFound()
    return record


def reception_counts(unit: OrgUnit, since: dt.datetime) -> dict[str, int]:
    """Patients helped at ``unit``'s reception since ``since`` by action (undone records left out)."""
    rows = (
        ReceptionHelp.objects.filter(unit=unit, undone_at__isnull=True, helped_at__gte=since)
        .values("action")
        .annotate(n=Count("pk"))
        .values_list("action", "n")
    )
    return dict(rows)


def last_reception_of(viewer: Any, unit: OrgUnit) -> ReceptionHelp | None:
    """The viewer's latest record at ``unit`` that still counts (the one *Hoàn tác* would undo)."""
    return (
        ReceptionHelp.objects.filter(unit=unit, recorded_by_id=viewer.pk, undone_at__isnull=True)
        .order_by("-helped_at", "-pk")
        .first()
    )


def admin_area(viewer: Any) -> OrgUnit:
    """The unit an administrator oversees (their centre, or the province); NotFound for anybody else."""
    if not is_admin(viewer) or viewer.org_unit_id is None:
        raise NotFound()
    return viewer.org_unit


# --- campaign ------------------------------------------------------------------------------------------


def campaign_for(unit: OrgUnit) -> Campaign:
    """The campaign of the nearest unit at or above ``unit`` that has one; else the seed letter's defaults."""
    seen: set[int] = set()
    chain: list[OrgUnit] = []
    current: OrgUnit | None = unit
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        chain.append(current)
        current = current.parent
    found = {c.centre_id: c for c in Campaign.objects.filter(centre_id__in=[u.pk for u in chain])}
    for candidate in chain:
        if candidate.pk in found:
            return found[candidate.pk]
    centre = next((u for u in chain if u.kind == OrgUnitKind.HEALTH_CENTRE), chain[-1])
    return Campaign(centre=centre)


# --- roster --------------------------------------------------------------------------------------------


def _active_on(day: dt.date) -> Q:
    return Q(active_from__lte=day) & (Q(active_to__isnull=True) | Q(active_to__gte=day))


def roster_on(unit_ids: Iterable[int], day: dt.date) -> QuerySet[RosterEntry]:
    """The staff on these units' rosters on ``day``."""
    return RosterEntry.objects.filter(_active_on(day), unit_id__in=list(unit_ids))


def roster_of(unit: OrgUnit) -> QuerySet[RosterEntry]:
    """Every roster entry of ``unit``, past and present, by department and name."""
    return RosterEntry.objects.filter(unit=unit).order_by("department", "full_name", "pk")


def entry_of(unit: OrgUnit, entry_id: int) -> RosterEntry:
    entry = RosterEntry.objects.filter(unit=unit, pk=entry_id).first()
    if entry is None:
        raise NotFound()
    return entry


def status_history(entry: RosterEntry) -> QuerySet[StatusChange]:
    """Every recorded change of ``entry``'s statuses, newest first."""
    return (
        StatusChange.objects.filter(entry=entry).select_related("changed_by").order_by("-changed_at", "-pk")
    )


def report_of(unit: OrgUnit, period_start: dt.date) -> MonthlyReport | None:
    return MonthlyReport.objects.filter(unit=unit, period=period_start).first()


# --- statuses ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Resolved:
    """One indicator of one staff member at a moment: done or not, why not, and where it came from."""

    done: bool
    reason_code: str = ""
    reason_text: str = ""
    source: str = SOURCE_NONE
    # Whether the unit reporter may change this value (entered values) or at least its reason (a "not yet"
    # from the system whose reason the system does not know).
    reason_editable: bool = True

    @property
    def from_system(self) -> bool:
        return self.source == SOURCE_SYSTEM


@dataclass(slots=True)
class StaffState:
    """A roster entry with its four statuses at a moment."""

    entry_id: int
    unit_id: int
    full_name: str
    personal_id: str
    position: str
    department: str
    has_smartphone: bool
    matched: bool
    statuses: dict[str, Resolved] = field(default_factory=dict)

    def status(self, indicator: str) -> Resolved:
        return self.statuses[indicator]


# eq=False: compared and hashed by identity, which is right for the shared values ``entered_statuses``
# hands out (one object per distinct value) and lets ``staff_states`` use them as cheap memo keys.
@dataclass(frozen=True, slots=True, eq=False)
class _Entered:
    done: bool
    reason_code: str
    reason_text: str


_NOTHING_ENTERED: dict[str, _Entered] = {}


@dataclass(slots=True)
class SystemFacts:
    """What identity, wallet and health book say about a set of people (read once, resolved per moment)."""

    accounts: dict[str, AccountFacts]
    card_since: dict[str, dt.datetime]
    card_reason: dict[str, str]
    books_tracked: bool

    @classmethod
    def load(cls, personal_ids: Iterable[str] | QuerySet[Any]) -> SystemFacts:
        if not isinstance(personal_ids, QuerySet):
            personal_ids = list(personal_ids)
        return cls(
            accounts=citizen_accounts_for(personal_ids),
            card_since=first_card_linked_at(personal_ids),
            card_reason=why_not_linked_by_personal_id(personal_ids),
            books_tracked=book_tracking_available(),
        )


def entered_statuses(
    moment: dt.datetime, *, unit_ids: Sequence[int] | None = None, entry_ids: Sequence[int] | None = None
) -> dict[int, dict[str, _Entered]]:
    """The entered values at ``moment`` by entry and indicator, for these units' or these entries' staff."""
    rows = StatusChange.objects.filter(
        Q(effective_from__lte=moment) & (Q(effective_to__isnull=True) | Q(effective_to__gt=moment))
    )
    if entry_ids is not None:
        rows = rows.filter(entry_id__in=list(entry_ids))
    else:
        rows = rows.filter(entry__unit_id__in=list(unit_ids or []))
    # At most one value of an entry's indicator is valid at a moment (``record_status`` closes the previous
    # one where the next begins), so the rows need no order; the model's default order (through the roster
    # entry's unit, department and name) made PostgreSQL sort 120,000 wide rows on disk.
    found: dict[int, dict[str, _Entered]] = defaultdict(dict)
    # Most people share a handful of (done, reason) values: one immutable object each.
    shared: dict[tuple[bool, str, str], _Entered] = {}
    for entry_id, indicator, done, reason, text in rows.order_by().values_list(
        "entry_id", "indicator", "done", "reason_code", "reason_text"
    ):
        key = (done, reason, text)
        value = shared.get(key)
        if value is None:
            value = shared[key] = _Entered(done, reason, text)
        found[entry_id][indicator] = value
    return found


def _default_reason(indicator: str, has_smartphone: bool, level2_done: bool | None) -> str:
    if indicator in (LEVEL2, VNEID) and not has_smartphone:
        return "NO_SMARTPHONE"
    if indicator in (CARD, BOOK) and level2_done is False:
        return "NO_LEVEL2"
    return UNKNOWN_REASON


@contextmanager
def bulk_reading() -> Iterator[None]:
    """Hold off CPython's cyclic garbage collector while reading many rows into many small objects.

    Resolving 50,000 staff allocates a few hundred thousand tuples, dicts and records that all stay alive
    until the report is built; every few thousand allocations the collector walked them (and the rest of the
    heap) again, which was half the time of ``staff_states``. None of them form reference cycles, so nothing
    is left for the collector to find; reference counting frees them as usual. Nested uses are harmless.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Resolutions:
    """Hands out one shared ``Resolved`` per distinct value (they are immutable): a consolidation of 50,000
    staff has 200,000 statuses but a few dozen distinct values, and building each anew was most of the cost.
    """

    __slots__ = ("_made",)

    def __init__(self) -> None:
        self._made: dict[tuple[bool, str, str, str, bool], Resolved] = {}

    def get(self, done: bool, code: str, text: str, source: str, editable: bool = True) -> Resolved:
        key = (done, code, text, source, editable)
        found = self._made.get(key)
        if found is None:
            found = self._made[key] = Resolved(done, code, text, source, editable)
        return found

    def not_done(self, entered: _Entered | None, default: str, source: str) -> Resolved:
        if entered is not None and not entered.done and entered.reason_code:
            return self.get(False, entered.reason_code, entered.reason_text, source)
        return self.get(False, default, "", source)

    def from_entered(self, entered: _Entered | None, default: str) -> Resolved:
        if entered is None:
            return self.get(False, default, "", SOURCE_NONE)
        if entered.done:
            return self.get(True, "", "", SOURCE_ENTERED)
        return self.not_done(entered, default, SOURCE_ENTERED)


def resolve_statuses(
    *,
    personal_id: str,
    has_smartphone: bool,
    entered: dict[str, _Entered],
    facts: SystemFacts,
    books: set[str],
    moment: dt.datetime,
    day: dt.date | None = None,
    resolutions: _Resolutions | None = None,
) -> tuple[bool, dict[str, Resolved]]:
    """Resolve the four statuses of one person at ``moment``; return (matched to an account, statuses).

    A person with a citizen account in SoSKDT gets level 2 from identity, the card from the wallet and the
    book from the health book ("from system"); reasons come from the system when it knows them (no level 2,
    the wallet's refusal), else from what the reporter entered. VNeID counts as installed when a level-2
    account has reported an app version; otherwise it is entered. Everybody else's statuses are entered.

    ``day`` (the moment's local date) and ``resolutions`` only spare work when resolving many people.
    """
    if day is None:
        day = moment.astimezone(local_zone()).date()
    make = resolutions or _Resolutions()
    account = facts.accounts.get(personal_id)
    result: dict[str, Resolved] = {}
    if account is None:
        level2 = make.from_entered(entered.get(LEVEL2), _default_reason(LEVEL2, has_smartphone, None))
        result[LEVEL2] = level2
        result[VNEID] = make.from_entered(
            entered.get(VNEID), _default_reason(VNEID, has_smartphone, level2.done)
        )
        card_or_book_default = "NO_LEVEL2" if not level2.done else UNKNOWN_REASON
        result[BOOK] = make.from_entered(entered.get(BOOK), card_or_book_default)
        result[CARD] = make.from_entered(entered.get(CARD), card_or_book_default)
        return False, result

    level2_done = account.level2_on(day)
    if level2_done:
        result[LEVEL2] = make.get(True, "", "", SOURCE_SYSTEM, False)
    else:
        result[LEVEL2] = make.not_done(
            entered.get(LEVEL2),
            _default_reason(LEVEL2, has_smartphone, None),
            SOURCE_SYSTEM,
        )
    if level2_done and account.app_version:
        result[VNEID] = make.get(True, "", "", SOURCE_SYSTEM, False)
    else:
        result[VNEID] = make.from_entered(
            entered.get(VNEID),
            _default_reason(VNEID, has_smartphone, level2_done),
        )
    linked_at = facts.card_since.get(personal_id)
    if linked_at is not None and linked_at <= moment:
        result[CARD] = make.get(True, "", "", SOURCE_SYSTEM, False)
    elif not level2_done:
        result[CARD] = make.get(False, "NO_LEVEL2", "", SOURCE_SYSTEM, False)
    else:
        wallet_reason = facts.card_reason.get(personal_id, "")
        if wallet_reason in reasons.CARD:
            result[CARD] = make.get(False, wallet_reason, "", SOURCE_SYSTEM, False)
        else:
            result[CARD] = make.not_done(entered.get(CARD), UNKNOWN_REASON, SOURCE_SYSTEM)
    if not facts.books_tracked:
        result[BOOK] = make.from_entered(
            entered.get(BOOK),
            _default_reason(BOOK, has_smartphone, level2_done),
        )
    elif personal_id in books:
        result[BOOK] = make.get(True, "", "", SOURCE_SYSTEM, False)
    elif not level2_done:
        result[BOOK] = make.get(False, "NO_LEVEL2", "", SOURCE_SYSTEM, False)
    else:
        result[BOOK] = make.not_done(entered.get(BOOK), UNKNOWN_REASON, SOURCE_SYSTEM)
    return True, result


def staff_states(
    unit_ids: Sequence[int],
    moment: dt.datetime,
    *,
    day: dt.date | None = None,
    facts: SystemFacts | None = None,
    entry_ids: Sequence[int] | None = None,
) -> list[StaffState]:
    """Every staff member on these units' rosters on ``day`` (default: the moment's date), with statuses.

    A bounded number of queries whatever the number of staff: roster, entered statuses, and one read each
    of identity, wallet and health book (pass ``facts`` to reuse those across months).
    """
    moment_day = moment.astimezone(local_zone()).date()
    day = day or moment_day
    with bulk_reading():
        return _staff_states(unit_ids, moment, moment_day, day, facts, entry_ids)


def _staff_states(
    unit_ids: Sequence[int],
    moment: dt.datetime,
    moment_day: dt.date,
    day: dt.date,
    facts: SystemFacts | None,
    entry_ids: Sequence[int] | None,
) -> list[StaffState]:
    roster = roster_on(unit_ids, day)
    if entry_ids is not None:
        roster = roster.filter(pk__in=list(entry_ids))
    rows = list(
        roster.order_by("unit_id", "department", "full_name", "pk").values_list(
            "pk", "unit_id", "full_name", "personal_id", "position", "department", "has_smartphone"
        )
    )
    if not rows:
        return []
    entered_all = entered_statuses(moment, unit_ids=unit_ids, entry_ids=entry_ids)
    pids_query = roster.order_by().values("personal_id")
    if facts is None:
        facts = SystemFacts.load(pids_query)
    books = books_created_for(pids_query, moment) if facts.books_tracked else set()
    resolutions = _Resolutions()
    accounts = facts.accounts
    nothing = _NOTHING_ENTERED
    # A person without an account has statuses that depend only on the smartphone and the four entered
    # values (shared objects): resolve each combination once and give each person a copy.
    unmatched: dict[tuple[Any, ...], dict[str, Resolved]] = {}
    states: list[StaffState] = []
    append = states.append
    resolve = partial(
        resolve_statuses, facts=facts, books=books, moment=moment, day=moment_day, resolutions=resolutions
    )
    for pk, unit_id, name, pid, position, department, smartphone in rows:
        entered = entered_all.get(pk, nothing)
        if pid in accounts:
            matched, statuses = resolve(personal_id=pid, has_smartphone=smartphone, entered=entered)
        else:
            key = (smartphone, entered.get(LEVEL2), entered.get(VNEID), entered.get(BOOK), entered.get(CARD))
            known = unmatched.get(key)
            if known is None:
                known = unmatched[key] = resolve(personal_id=pid, has_smartphone=smartphone, entered=entered)[
                    1
                ]
            matched, statuses = False, dict(known)
        append(StaffState(pk, unit_id, name, pid, position, department, smartphone, matched, statuses))
    return states


# --- coverage: books integrated ÷ population --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoverageCount:
    """Books integrated and the population of an area at a moment (None where the figure is unknown)."""

    area: OrgUnit
    as_of: dt.datetime | dt.date
    books_integrated: int | None
    population: int | None
    source: str = ""


def system_coverage(area: OrgUnit, moment: dt.datetime) -> CoverageCount:
    """The coverage indicator from SoSKDT's own data, at ``moment``, in one query (plus the area's tree).

    Population: the people of the population register living in the area and alive that day (a province
    department: its province; any other unit: the communes of the stations below it). Books integrated: those
    of them whose health book was created (activated) and who had a BHYT card in their wallet at ``moment``.
    """
    day = moment.astimezone(local_zone()).date()
    residents = residents_of_area(area, day)
    if residents is None:
        return CoverageCount(area, moment, None, None)
    books = citizens_with_book(moment)
    if books is None:
        return CoverageCount(area, moment, None, residents.count())
    integrated = Q(pk__in=books) & Q(pk__in=citizens_with_card(moment))
    counted = residents.aggregate(population=Count("pk"), integrated=Count("pk", filter=integrated))
    return CoverageCount(area, moment, counted["integrated"], counted["population"])


def entered_coverage(area: OrgUnit, day: dt.date) -> CoverageCount | None:
    """The latest figure the centre recorded (e.g. C06's) for ``area`` or a unit above it, up to ``day``."""
    chain: list[int] = []
    current: OrgUnit | None = area
    while current is not None and current.pk not in chain:
        chain.append(current.pk)
        current = current.parent
    figure = (
        CoverageFigure.objects.filter(area_id__in=chain, as_of__lte=day)
        .select_related("area")
        .order_by("-as_of", "-pk")
        .first()
    )
    if figure is None:
        return None
    return CoverageCount(figure.area, figure.as_of, figure.books_integrated, figure.population, figure.source)


def reason_label(indicator: str, code: str, text: str = "") -> str:
    """The Vietnamese label of a "not yet" reason; "Lý do khác" carries its free text."""
    if code == UNKNOWN_REASON or not code:
        return str(UNKNOWN_REASON_LABEL)
    label = reasons.label(REASON_CATEGORY[indicator], code)
    if code == "OTHER" and text:
        return f"{label} ({text})"
    return label


def reporters_of(unit_ids: Iterable[int]) -> dict[int, list[User]]:
    """The unit reporters of each unit (for reminders)."""
    from soskdt.identity.models import Role
    from soskdt.identity.selectors import staff_with_role_in_units

    return staff_with_role_in_units(Role.UNIT_REPORTER, unit_ids)
