"""The roll-out campaign of the An Phú centre (letter 310/TTYT-KHNV): rosters, statuses, reports, records.

- a campaign whose first reporting month is three months ago (the target date: the end of this month);
- every department's and station's roster from the demo staff (``DemoStaffLink`` people); the examination
  department has two rows in table I.1 (its staff at the Long Bình polyclinic are a *Khoa/Phòng* of their own);
- statuses partly derived (staff with a level-2 account get BHYT cards linked and books created over the
  months, through the wallet and health-book rows), partly entered by the unit reporters with reasons
  (staff without an account, or whose reason the system does not know), some changed over time;
- three months of reports in different states (approved, submitted late, returned, draft, missing),
  with the numbers frozen at submission as the real workflow does;
- reception-area guidance records, training sessions, printing records, and the letter's coverage figure.

Rows are written with ``bulk_create`` (see ``builders/__init__``); the same seed and day give the same data.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import cast

from soskdt.demo.builders.common import BATCH_SIZE, local_time, part_rng, weighted
from soskdt.demo.builders.organisation import POLYCLINIC_CODE, OrgTree
from soskdt.demo.builders.staff import Staff, StaffMember
from soskdt.identity.models import Role, User
from soskdt.registry.models import InsuranceCard, OrgUnit, OrgUnitKind
from soskdt.rollout.models import (
    Campaign,
    CoverageFigure,
    Indicator,
    MonthlyReport,
    PrintingRecord,
    PrintKind,
    ReceptionAction,
    ReceptionHelp,
    ReportAction,
    ReportEvent,
    ReportStatus,
    RosterEntry,
    StatusChange,
    TrainingSession,
)
from soskdt.rollout.periods import Period
from soskdt.wallet.models import CardLinkRequest, LinkedCard, LinkStatus
from soskdt.wallet.services import is_app_version_supported

MONTHS = 3
LONG_BINH_DEPARTMENT = "Phòng khám đa khoa khu vực Long Bình"
LEVEL2_REASONS = (
    ("NO_CHIP_ID", 4),
    ("NOT_REGISTERED_POLICE", 3),
    ("AWAITING_APPROVAL", 3),
    ("APPROVED_NOT_ACTIVATED", 2),
    ("LOW_DIGITAL_SKILLS", 2),
    ("LONG_ABSENCE", 2),
    ("PHONE_NOT_OWN", 1),
)
CARD_REASONS = (
    ("WRONG_ISSUER", 3),
    ("INSURANCE_NOT_MATCHED", 2),
    ("NO_CARD_OR_EXPIRED", 1),
    ("APP_OUTDATED", 2),
)
DIFFICULTIES = (
    "Một số cán bộ lớn tuổi chưa thành thạo thao tác trên điện thoại thông minh.",
    "Một số cán bộ chưa được cấp CCCD gắn chip, chưa kích hoạt được tài khoản mức 2.",
    "Một số thẻ BHYT do BHXH Công an nhân dân cấp chưa tích hợp được.",
)
PROPOSALS = (
    "Đề nghị Công an xã hỗ trợ kích hoạt tài khoản định danh mức 2 tại đơn vị.",
    "Đề nghị Trung tâm cấp thêm banner hướng dẫn cho khu vực tiếp đón.",
)


@dataclass
class DemoRollout:
    campaign: Campaign
    roster: list[RosterEntry] = field(default_factory=list)
    reports: list[MonthlyReport] = field(default_factory=list)
    linked_cards: int = 0
    books: int = 0
    reception: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "roster": len(self.roster),
            "reports": len(self.reports),
            "linked_cards": self.linked_cards,
            "books": self.books,
            "reception": self.reception,
        }


def _moment(rng: random.Random, start: dt.date, end: dt.date) -> dt.datetime:
    """A working-hours time on a random day between ``start`` and ``end`` (inclusive)."""
    days = max(0, (end - start).days)
    return local_time(start + dt.timedelta(days=rng.randint(0, days)), rng.randint(7, 16), rng.randrange(60))


def build_demo_rollout(*, seed: int, today: dt.date, org: OrgTree, staff: Staff) -> DemoRollout:
    """Build the campaign's data for the centre's departments and stations (about 200 staff)."""
    rng = part_rng(seed, "rollout")
    current = Period.of(today)
    months = [current]
    for _ in range(MONTHS):
        months.insert(0, months[0].previous())
    first = months[0]
    units = {u.pk: u for u in [*org.departments.values(), *org.stations.values()]}
    admin = next(m.user for m in staff.members if Role.CENTRE_ADMIN in m.roles)
    reporter_of = {
        m.user.org_unit_id: m.user for m in staff.with_role(Role.UNIT_REPORTER) if m.user.org_unit_id
    }
    # Where a unit has reception staff, they record the patients helped at its reception desk.
    desk_of = {m.user.org_unit_id: m.user for m in staff.with_role(Role.RECEPTION) if m.user.org_unit_id}

    campaign = Campaign(centre=org.centre, starts_on=first.start, target_date=current.end, updated_by=admin)
    Campaign.objects.bulk_create([campaign])
    result = DemoRollout(campaign)

    # --- rosters ------------------------------------------------------------------------------------
    members = [m for m in staff.members if m.user.org_unit_id in units]
    accounts = {
        u.username: u
        for u in User.objects.filter(username__in=[m.citizen.personal_id for m in members]).only(
            "id", "username", "citizen_id", "assurance_level", "app_version"
        )
    }
    entries: list[tuple[RosterEntry, StaffMember]] = []
    leavers = {id(m) for m in rng.sample([m for m in members if not m.roles], 2)}
    for member in members:
        user = member.user
        account = accounts.get(member.citizen.personal_id)
        facility = user.facility
        department = LONG_BINH_DEPARTMENT if facility is not None and facility.code == POLYCLINIC_CODE else ""
        smartphone = bool(account and account.app_version) or rng.random() < 0.85
        joined = user.date_joined.date()
        entry = RosterEntry(
            unit_id=cast(int, user.org_unit_id),
            full_name=member.citizen.full_name,
            personal_id=member.citizen.personal_id,
            position=member.position,
            department=department,
            has_smartphone=smartphone,
            active_from=joined,
            active_to=months[-2].start + dt.timedelta(days=rng.randint(3, 20))
            if id(member) in leavers
            else None,
        )
        entries.append((entry, member))
    RosterEntry.objects.bulk_create([e for e, _m in entries], batch_size=BATCH_SIZE)
    result.roster = [e for e, _m in entries]

    # --- wallet and book: derived statuses ------------------------------------------------------------
    valid_cards = {
        c.holder_personal_id: c
        for c in InsuranceCard.objects.filter(
            holder_personal_id__in=[e.personal_id for e, _m in entries],
            valid_from__lte=today,
            valid_to__gte=today,
        )
    }
    requests: list[CardLinkRequest] = []
    links: list[tuple[CardLinkRequest, dt.datetime]] = []
    books: list[tuple[int, int, dt.datetime]] = []
    for entry, _member in entries:
        account = accounts.get(entry.personal_id)
        card = valid_cards.get(entry.personal_id)
        if account is None or account.assurance_level != 2 or card is None or not entry.has_smartphone:
            continue
        if account.app_version and not is_app_version_supported(account.app_version):
            continue  # the wallet refuses old apps; the reporter enters the reason
        roll = rng.random()
        if roll < 0.78:
            when = (
                _moment(rng, first.start - dt.timedelta(days=60), today)
                if rng.random() < 0.8
                else _moment(rng, first.start - dt.timedelta(days=200), first.start)
            )
            when = min(when, local_time(today, 7))
            request = CardLinkRequest(
                account=account,
                citizen_id=cast(int, account.citizen_id),
                typed_value=card.social_insurance_number,
                social_insurance_number=card.social_insurance_number,
                issuer=card.issuer,
                app_version=account.app_version,
                status=LinkStatus.APPROVED,
                decided_at=when,
                card=card,
            )
            requests.append(request)
            links.append((request, when))
            if rng.random() < 0.8:
                books.append(
                    (cast(int, account.citizen_id), account.pk, when + dt.timedelta(days=rng.randint(0, 20)))
                )
        elif roll < 0.88:
            reason = "WRONG_NUMBER" if rng.random() < 0.5 else "PERSONAL_DATA_MISMATCH"
            requests.append(
                CardLinkRequest(
                    account=account,
                    citizen_id=cast(int, account.citizen_id),
                    typed_value=card.social_insurance_number[:-1] + "0",
                    social_insurance_number=card.social_insurance_number[:-1] + "0",
                    issuer=card.issuer,
                    app_version=account.app_version,
                    status=LinkStatus.REJECTED,
                    rejection_code="CARD_NOT_FOUND" if reason == "WRONG_NUMBER" else "PERSONAL_DATA_MISMATCH",
                    reason_code=reason,
                    decided_at=_moment(rng, first.start, today),
                )
            )
    CardLinkRequest.objects.bulk_create(requests, batch_size=BATCH_SIZE)
    LinkedCard.objects.bulk_create(
        [
            LinkedCard(citizen_id=r.citizen_id, card_id=cast(int, r.card_id), request=r, linked_at=when)
            for r, when in links
        ],
        batch_size=BATCH_SIZE,
    )
    result.linked_cards = len(links)
    result.books = _build_books(books, today)

    # --- entered statuses ----------------------------------------------------------------------------
    changes: list[StatusChange] = []

    def enter(
        entry: RosterEntry,
        indicator: str,
        done: bool,
        reason: str,
        at: dt.datetime,
        by: User | None,
        then_done: dt.datetime | None = None,
    ) -> None:
        first_change = StatusChange(
            entry=entry,
            indicator=indicator,
            done=done,
            reason_code="" if done else reason,
            effective_from=at,
            changed_at=at,
            changed_by=by,
        )
        changes.append(first_change)
        if then_done is not None and not done and then_done > at:
            first_change.effective_to = then_done
            changes.append(
                StatusChange(
                    entry=entry,
                    indicator=indicator,
                    done=True,
                    old_done=False,
                    old_reason_code=reason,
                    effective_from=then_done,
                    changed_at=then_done,
                    changed_by=by,
                )
            )

    linked_people = {r.citizen_id for r, _w in links}
    for entry, _member in entries:
        by = reporter_of.get(entry.unit_id)
        account = accounts.get(entry.personal_id)
        entered_at = _moment(rng, first.start, first.start + dt.timedelta(days=20))
        later = (
            _moment(rng, first.start + dt.timedelta(days=25), today - dt.timedelta(days=1))
            if rng.random() < 0.35
            else None
        )
        if account is None:
            level2 = rng.random() < 0.45
            reason = "NO_SMARTPHONE" if not entry.has_smartphone else weighted(rng, LEVEL2_REASONS)
            enter(entry, Indicator.LEVEL2, level2, reason, entered_at, by, later)
            if entry.has_smartphone:
                enter(entry, Indicator.VNEID_INSTALLED, level2 or rng.random() < 0.5, reason, entered_at, by)
                if level2:
                    card_done = rng.random() < 0.6
                    enter(
                        entry, Indicator.CARD_LINKED, card_done, weighted(rng, CARD_REASONS), entered_at, by
                    )
                    enter(
                        entry,
                        Indicator.BOOK_CREATED,
                        card_done and rng.random() < 0.7,
                        "TERMS_NOT_ACCEPTED",
                        entered_at,
                        by,
                    )
        elif account.assurance_level != 2:
            enter(entry, Indicator.LEVEL2, False, weighted(rng, LEVEL2_REASONS[:4]), entered_at, by)
        elif account.citizen_id not in linked_people and entry.has_smartphone:
            reason = (
                "APP_OUTDATED"
                if account.app_version and not is_app_version_supported(account.app_version)
                else weighted(rng, CARD_REASONS)
            )
            enter(entry, Indicator.CARD_LINKED, False, reason, entered_at, by)
            enter(entry, Indicator.BOOK_CREATED, False, "TERMS_NOT_ACCEPTED", entered_at, by)
    StatusChange.objects.bulk_create(changes, batch_size=BATCH_SIZE)

    # --- trainings, printing, reception --------------------------------------------------------------
    by_unit: dict[int, list[RosterEntry]] = defaultdict(list)
    for entry, _member in entries:
        by_unit[entry.unit_id].append(entry)
    sessions: list[tuple[TrainingSession, list[RosterEntry]]] = []
    prints: list[PrintingRecord] = []
    helps: list[ReceptionHelp] = []
    for unit_id, unit in units.items():
        people = by_unit.get(unit_id, [])
        by = reporter_of.get(unit_id)
        for index in range(1 if unit.kind == OrgUnitKind.COMMUNE_STATION else 2):
            day = (
                (first.start + dt.timedelta(days=rng.randint(5, 25) + 30 * index))
                if index < 2
                else first.start
            )
            day = min(day, today)
            attendees = rng.sample(people, k=round(len(people) * rng.uniform(0.5, 0.8))) if people else []
            session = TrainingSession(
                unit_id=unit_id,
                held_on=day,
                topic="Hướng dẫn sử dụng và khai thác thông tin Sổ sức khỏe điện tử trên VNeID",
                other_attendees=rng.randint(0, 3),
                created_by=by,
            )
            sessions.append((session, attendees))
        prints.append(
            PrintingRecord(
                unit_id=unit_id,
                recorded_on=first.start + dt.timedelta(days=rng.randint(2, 12)),
                kind=PrintKind.BANNER,
                quantity=rng.randint(1, 2),
                colour=True,
                location="Khu vực tiếp đón bệnh nhân",
                created_by=by,
            )
        )
        prints.append(
            PrintingRecord(
                unit_id=unit_id,
                recorded_on=months[1].start + dt.timedelta(days=rng.randint(2, 20)),
                kind=PrintKind.CARD_GUIDE,
                quantity=rng.randint(5, 30),
                colour=rng.random() < 0.5,
                location="Khu vực tiếp đón bệnh nhân, các khoa điều trị",
                created_by=by,
            )
        )
        if by is None or (
            unit.kind != OrgUnitKind.COMMUNE_STATION
            and unit.code not in ("ANPHU-KKB", "ANPHU-NOI", "ANPHU-SAN", "ANPHU-NHI")
        ):
            continue
        day = first.start
        while day < today:
            if day.weekday() < 6:
                for _n in range(rng.randint(0, 5 if unit.code == "ANPHU-KKB" else 2)):
                    action = weighted(
                        rng,
                        (
                            (ReceptionAction.INSTALLED_APP, 5),
                            (ReceptionAction.LINKED_CARD, 4),
                            (ReceptionAction.OPENED_BOOK, 3),
                        ),
                    )
                    helps.append(
                        ReceptionHelp(
                            unit_id=unit_id,
                            action=action,
                            helped_at=local_time(day, rng.randint(7, 16), rng.randrange(60)),
                            recorded_by=desk_of.get(unit_id, by),
                        )
                    )
            day += dt.timedelta(days=1)
    TrainingSession.objects.bulk_create([s for s, _a in sessions])
    Through = TrainingSession.attendees.through
    Through.objects.bulk_create(
        [
            Through(trainingsession_id=s.pk, rosterentry_id=e.pk)
            for s, attendees in sessions
            for e in attendees
        ],
        batch_size=BATCH_SIZE,
    )
    PrintingRecord.objects.bulk_create(prints)
    ReceptionHelp.objects.bulk_create(helps, batch_size=BATCH_SIZE)
    result.reception = len(helps)

    CoverageFigure.objects.bulk_create(
        [
            CoverageFigure(
                area=org.province,
                as_of=dt.date(2024, 11, 22),
                books_integrated=369_164,
                population=2_724_670,
                source="Cục C06 (công văn 310/TTYT-KHNV)",
            ),
        ]
    )

    # --- three months of reports ---------------------------------------------------------------------
    result.reports = _build_reports(rng, months[:-1], units, reporter_of, admin, campaign)
    return result


def _build_books(books: list[tuple[int, int, dt.datetime]], today: dt.date) -> int:
    """Activated health books of staff who linked their card (written like the other demo rows)."""
    from soskdt.healthbook.models import Book, ConsentActor
    from soskdt.healthbook.terms import CURRENT_VERSION

    taken = set(
        Book.objects.filter(citizen_id__in=[c for c, _u, _w in books]).values_list("citizen_id", flat=True)
    )
    rows = [
        Book(
            citizen_id=citizen_id,
            terms_version=CURRENT_VERSION,
            terms_accepted_at=min(when, local_time(today, 7)),
            terms_accepted_by_id=user_id,
            terms_accepted_as=ConsentActor.CITIZEN,
            activated_at=min(when, local_time(today, 7)),
        )
        for citizen_id, user_id, when in books
        if citizen_id not in taken
    ]
    Book.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return len(rows)


# The state of each unit's report, oldest month first; the order of units is the consolidated table's.
_PLAN: tuple[tuple[str, ...], ...] = (
    (
        "approved",
        "approved",
        "approved_late",
        "approved",
        "approved",
        "approved",
        "approved",
        "approved",
        "approved",
        "approved",
        "approved",
        "approved_late",
        "approved",
    ),
    (
        "approved",
        "submitted_late",
        "approved",
        "approved",
        "approved_late",
        "approved",
        "submitted",
        "approved",
        "approved",
        "missing",
        "approved",
        "approved",
        "submitted_late",
    ),
    (
        "submitted",
        "draft",
        "approved",
        "returned",
        "submitted_late",
        "missing",
        "approved",
        "submitted",
        "draft",
        "missing",
        "approved",
        "submitted_late",
        "missing",
    ),
)


def _build_reports(
    rng: random.Random,
    months: list[Period],
    units: dict[int, OrgUnit],
    reporter_of: dict[int, User],
    admin: User,
    campaign: Campaign,
) -> list[MonthlyReport]:
    from django.utils import timezone

    from soskdt.rollout.report import build_unit_report

    now = timezone.now()
    ordered = sorted(units.values(), key=lambda u: (u.kind != OrgUnitKind.DEPARTMENT, u.code))
    reports: list[MonthlyReport] = []
    events: list[ReportEvent] = []
    for month, plan in zip(months, _PLAN[-len(months) :], strict=True):
        deadline = month.deadline(campaign.deadline_day)
        for unit, state in zip(ordered, plan, strict=False):
            if state == "missing":
                continue
            by = reporter_of.get(unit.pk)
            created = local_time(month.end, 8)
            report = MonthlyReport(unit=unit, period=month.start, status=ReportStatus.DRAFT)
            report.difficulties = rng.choice(DIFFICULTIES) if rng.random() < 0.6 else ""
            report.proposals = rng.choice(PROPOSALS) if rng.random() < 0.4 else ""
            log = [(ReportAction.CREATED, "", ReportStatus.DRAFT, by, created, "")]
            if state != "draft":
                late = state.endswith("_late")
                day = (
                    deadline.date() + dt.timedelta(days=rng.randint(0, 4))
                    if late
                    else deadline.date() - dt.timedelta(days=rng.randint(1, 8))
                )
                submitted = local_time(day, rng.randint(7, 16), rng.randrange(60))
                if submitted >= now:
                    state = "draft"
                else:
                    report.status = ReportStatus.SUBMITTED
                    report.first_submitted_at = report.submitted_at = submitted
                    report.submitted_by = by
                    report.on_time = not late
                    snapshot = build_unit_report(unit, month, now=submitted, live=True)
                    snapshot.units[0].status = ReportStatus.SUBMITTED
                    snapshot.units[0].submitted_at = submitted
                    snapshot.units[0].on_time = report.on_time
                    report.snapshot = snapshot.to_json()
                    log.append(
                        (
                            ReportAction.SUBMITTED,
                            ReportStatus.DRAFT,
                            ReportStatus.SUBMITTED,
                            by,
                            submitted,
                            "",
                        )
                    )
                    decided = min(
                        local_time(
                            submitted.date() + dt.timedelta(days=rng.randint(1, 3)),
                            rng.randint(8, 16),
                            rng.randrange(60),
                        ),
                        now - dt.timedelta(hours=1),
                    )
                    if state.startswith("approved") and decided > submitted:
                        report.status = ReportStatus.APPROVED
                        report.decided_at, report.decided_by = decided, admin
                        log.append(
                            (
                                ReportAction.APPROVED,
                                ReportStatus.SUBMITTED,
                                ReportStatus.APPROVED,
                                admin,
                                decided,
                                "",
                            )
                        )
                    elif state == "returned" and decided > submitted:
                        comment = "Đề nghị bổ sung lý do chưa tích hợp thẻ BHYT của từng khoa/phòng."
                        report.status = ReportStatus.RETURNED
                        report.decided_at, report.decided_by, report.return_comment = decided, admin, comment
                        log.append(
                            (
                                ReportAction.RETURNED,
                                ReportStatus.SUBMITTED,
                                ReportStatus.RETURNED,
                                admin,
                                decided,
                                comment,
                            )
                        )
            reports.append(report)
            events.extend(
                ReportEvent(report=report, action=a, from_status=f, to_status=t, actor=who, at=at, comment=c)
                for a, f, t, who, at, c in log
            )
    MonthlyReport.objects.bulk_create(reports)
    ReportEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    return reports
