"""Record visits sent by facilities, keep their earlier versions, and link them to citizens.

``record_visits`` is the only writer of visits and their items. It is built for volume: a batch costs
a fixed number of statements whatever its size, no ORM object is made per row, and rows go to
PostgreSQL with COPY (``loading``) while the next ones are rendered, so the database works on one core
while Python renders on the other. A batch is one transaction: stored whole or not at all.
Decision 0004 explains the storage and its figures.

The rendering can also be done ahead of time, in another process: ``prepare_visit`` turns a
``VisitInput`` into a ``PreparedVisit`` (rendered text, content hash, what linking needs), which
``record_visits`` takes in its place with the same outcome. The ingestion pipeline does this in its
parse helpers, so the loading process only adds ids and writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from soskdt.core.dates import PartialDate
from soskdt.core.errors import DomainError, Problem, define
from soskdt.healthbook import fieldmap as fm
from soskdt.healthbook import loading
from soskdt.healthbook.models import (
    LinkMethod,
    RawDocument,
    ServiceLine,
    Visit,
    VisitVersion,
    category_for_cost_group,
)
from soskdt.healthbook.records import Row, VisitInput, VisitOutcome, VisitStatus
from soskdt.registry.models import Citizen, Facility, InsuranceCard

__all__ = [
    "PreparedVisit",
    "VisitInput",
    "VisitOutcome",
    "VisitStatus",
    "link_pending_visits",
    "prepare_visit",
    "record_visits",
]

FACILITY_NOT_FOUND = define(
    "VISIT_FACILITY_NOT_FOUND", _("Cơ sở khám chữa bệnh không có trong danh mục: {codes}.")
)
LINK_IDENTITY_MISMATCH = define(
    "VISIT_LINK_IDENTITY_MISMATCH",
    _("Công dân tìm được có năm sinh hoặc giới tính khác với hồ sơ; chưa liên kết, cần kiểm tra."),
)
LINK_AMBIGUOUS = define(
    "VISIT_LINK_AMBIGUOUS_INSURANCE_NUMBER",
    _("Mã số BHXH trên thẻ thuộc nhiều người trong danh sách thẻ BHYT; chưa liên kết."),
)

_LINK_CHUNK = 2000

# Columns the loader computes, written before the columns of fieldmap.VISIT.
_VISIT_META = (
    "updated_at",
    "facility_id",
    "facility_code",
    "ma_lk",
    "version",
    "content_hash",
    "received_at",
    "submission_ref",
    "citizen_id",
    "link_method",
    "linked_at",
    "birth_date",
    "birth_year",
    "insurance_number",
    "visit_year",
    "follow_up_on",
    "warnings",
)
_VISIT_TIMES = ("created_at", "updated_at", "received_at", "linked_at", *fm.VISIT.time_columns)
_VISIT_INSERT_COLUMNS = ("id", "created_at", *_VISIT_META, *fm.VISIT.columns)
_VISIT_UPDATE_COLUMNS = ("id", *_VISIT_META, *fm.VISIT.columns)


# --- preparing one visit ---------------------------------------------------------------------


@dataclass(slots=True)
class _Candidate:
    """What linking needs to know about one visit."""

    personal_id: str | None
    insurance_numbers: list[str]
    birth_year: int | None
    sex: str | None


@dataclass(slots=True)
class _Match:
    citizen_id: int | None = None
    method: str = LinkMethod.NONE.value
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class _Stored:
    id: int
    version: int
    content_hash: str
    citizen_id: int | None
    link_method: str
    linked_at: dt.datetime | None
    received_at: dt.datetime
    submission_ref: str


def _birth(value: object) -> tuple[dt.date | None, int | None]:
    """Read NGAY_SINH (``yyyymmddHHMM``; unknown month/day are ``00``) as a date and a year."""
    if value is None:
        return None, None
    if isinstance(value, dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        return day, day.year
    if isinstance(value, PartialDate):
        return value.as_date(), value.year
    text = fm.as_qd130_text(value).strip()
    if len(text) < 4 or not text[:4].isdigit():
        return None, None
    year = int(text[:4])
    try:
        return dt.date(year, int(text[4:6]), int(text[6:8])), year
    except ValueError:
        return None, year


def _personal_id(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text if len(text) == 12 and text.isdigit() else None


def _insurance_numbers(card_codes: object) -> list[str]:
    """The 10-digit social-insurance numbers at the end of each card code (DOMAIN.md §2), in order."""
    numbers: list[str] = []
    for code in fm.split_list(card_codes):
        tail = code.replace(" ", "")[-10:]
        if len(tail) == 10 and tail.isdigit() and tail not in numbers:
            numbers.append(tail)
    return numbers


def _optional(parse: Any, value: object) -> Any:
    if value is None:
        return None
    try:
        return parse(value)
    except (fm.Unstorable, ValueError, TypeError):
        return None


@dataclass(slots=True)
class PreparedVisit:
    """A visit made ready for ``record_visits`` ahead of time: the same outcome as the ``VisitInput`` it came from.

    ``prepare_visit`` does the per-row work of recording wherever the visit is at hand (the ingestion
    pipeline's parse helper processes): every table rendered as COPY text, the content hash, and what
    linking needs. It holds only short strings and plain values, so it is cheap to send between processes;
    ``record_visits`` then adds ids and writes. Only this module reads its fields.
    """

    facility_code: str
    ma_lk: str
    submission_ref: str
    received_at: dt.datetime | None
    warnings: list[dict[str, Any]]
    summary: str
    content_hash: str
    problems: list[dict[str, Any]]
    candidate: _Candidate
    birth_date: dt.date | None
    visit_year: int | None
    follow_up_on: dt.date | None
    # Non-empty tables only (``_PARTS`` names): their COPY lines without ids, joined by newlines.
    parts: dict[str, str]
    service_categories: list[str]
    result_services: list[int | None]

    @property
    def key(self) -> tuple[str, str]:
        return (self.facility_code, self.ma_lk)


@dataclass(slots=True)
class _Pending:
    """One visit of a wave: its summary read at once, its tables rendered once, when first needed.

    Tables are rendered in canonical order (``_PARTS``), each feeding the content hash, so a visit
    rendered up front (to compare it with the stored version, or by ``prepare_visit``) and one rendered
    while its lines stream to the database get the same hash. ``source`` is None for a prepared visit:
    everything is rendered and ``hash_hex`` is known.
    """

    index: int
    source: VisitInput | None
    facility_code: str
    ma_lk: str
    submission_ref: str
    received_at: dt.datetime | None
    warnings: list[dict[str, Any]]
    keys: dict[str, object]
    summary: str
    digest: Any
    problems: list[dict[str, Any]]
    candidate: _Candidate
    birth_date: dt.date | None
    visit_year: int | None
    follow_up_on: dt.date | None
    rendered: dict[str, list[str]] = field(default_factory=dict)
    hash_hex: str | None = None
    previous: _Stored | None = None
    visit_id: int = 0
    service_ids: list[int] = field(default_factory=list)
    service_categories: list[str] = field(default_factory=list)
    result_services: list[int | None] | None = None

    @property
    def content_hash(self) -> str:
        if self.hash_hex is not None:
            return self.hash_hex
        return str(self.digest.hexdigest())

    def has(self, part: str) -> bool:
        """Tell whether the visit has rows in table ``part``."""
        if self.source is None:
            return bool(self.rendered[part])
        return bool(getattr(self.source, part))

    @property
    def service_count(self) -> int:
        if self.source is None:
            return len(self.service_categories)
        return len(self.source.services or ())


_LINE_MAPS = dict(fm.LINE_TABLES)
_DOCUMENT_MAPS = dict(fm.DOCUMENT_TABLES)
_PARTS = (*_LINE_MAPS, *_DOCUMENT_MAPS, "raw_documents")


def _start(index: int, visit: VisitInput | PreparedVisit) -> _Pending:
    """Read the summary (XML1) of a visit: its row, what linking needs, and the start of its hash."""
    if isinstance(visit, PreparedVisit):
        return _from_prepared(index, visit)
    keys: dict[str, object] = {"MA_LK": visit.ma_lk, "MA_CSKCB": visit.facility_code}
    summary_row = visit.summary or {}
    problems: list[dict[str, Any]] = []
    summary = fm.VISIT.render(summary_row, keys=keys, problems=problems)
    birth_date, birth_year = _birth(summary_row.get("NGAY_SINH"))
    sex = summary_row.get("GIOI_TINH")
    admitted = _optional(fm.parse_time, summary_row.get("NGAY_VAO"))
    follow_ups = fm.split_list(summary_row.get("NGAY_TAI_KHAM"))
    return _Pending(
        index=index,
        source=visit,
        facility_code=visit.facility_code,
        ma_lk=visit.ma_lk,
        submission_ref=visit.submission_ref,
        received_at=visit.received_at,
        warnings=visit.warnings,
        keys=keys,
        summary=summary,
        digest=hashlib.sha256(summary.encode()),
        problems=problems,
        candidate=_Candidate(
            personal_id=_personal_id(summary_row.get("SO_CCCD")),
            insurance_numbers=_insurance_numbers(summary_row.get("MA_THE_BHYT")),
            birth_year=birth_year,
            sex=None if sex is None else str(sex),
        ),
        birth_date=birth_date,
        visit_year=admitted.year if admitted else None,
        follow_up_on=_optional(fm.parse_date, follow_ups[0]) if follow_ups else None,
    )


def _from_prepared(index: int, visit: PreparedVisit) -> _Pending:
    parts = visit.parts
    return _Pending(
        index=index,
        source=None,
        facility_code=visit.facility_code,
        ma_lk=visit.ma_lk,
        submission_ref=visit.submission_ref,
        received_at=visit.received_at,
        warnings=visit.warnings,
        keys={},
        summary=visit.summary,
        digest=None,
        problems=list(visit.problems),
        candidate=visit.candidate,
        birth_date=visit.birth_date,
        visit_year=visit.visit_year,
        follow_up_on=visit.follow_up_on,
        rendered={part: parts[part].split("\n") if part in parts else [] for part in _PARTS},
        hash_hex=visit.content_hash,
        service_categories=list(visit.service_categories),
        result_services=visit.result_services,
    )


def _render_part(pending: _Pending, part: str) -> list[str]:
    """Render one table of a visit as COPY text (without ids), once; empty tables add nothing to the hash."""
    done = pending.rendered.get(part)
    if done is not None:
        return done
    source, digest = pending.source, pending.digest
    assert source is not None  # a prepared visit has every part rendered
    lines: list[str]
    if part in _LINE_MAPS:
        table = _LINE_MAPS[part]
        render, keys, problems = table.render, pending.keys, pending.problems
        rows = getattr(source, part) or ()
        lines = [render(row, keys=keys, position=i, problems=problems) for i, row in enumerate(rows, 1)]
        if lines:
            digest.update(f"\x1e{table.table}\n".encode())
            digest.update("\n".join(lines).encode())
    elif part in _DOCUMENT_MAPS:
        table = _DOCUMENT_MAPS[part]
        row = getattr(source, part)
        lines = [table.render(row, keys=pending.keys, problems=pending.problems)] if row else []
        if lines:
            digest.update(f"\x1e{table.table}\n{lines[0]}".encode())
    else:
        documents = source.raw_documents or {}
        lines = []
        for name in sorted(documents):
            payload = fm.dump_json(documents[name])
            digest.update(f"\x1e{name}\n{payload}".encode())
            lines.append(f"{fm.escape_copy(name)}\t{fm.escape_copy(payload)}")
    pending.rendered[part] = lines
    return lines


def _prepare(index: int, visit: VisitInput | PreparedVisit) -> _Pending:
    """Render a whole visit now (to compare its hash with the stored version's)."""
    pending = _start(index, visit)
    for part in _PARTS:
        _render_part(pending, part)
    return pending


def prepare_visit(visit: VisitInput) -> PreparedVisit:
    """Do the per-row work of recording ``visit`` now; ``record_visits`` takes the result in its place."""
    pending = _prepare(0, visit)
    services = visit.services or []
    return PreparedVisit(
        facility_code=visit.facility_code,
        ma_lk=visit.ma_lk,
        submission_ref=visit.submission_ref,
        received_at=visit.received_at,
        warnings=visit.warnings,
        summary=pending.summary,
        content_hash=pending.content_hash,
        problems=pending.problems,
        candidate=pending.candidate,
        birth_date=pending.birth_date,
        visit_year=pending.visit_year,
        follow_up_on=pending.follow_up_on,
        parts={part: "\n".join(lines) for part, lines in pending.rendered.items() if lines},
        service_categories=[category_for_cost_group(row.get("MA_NHOM")) for row in services],
        result_services=_service_for_results(services, visit.results or []),
    )


# --- linking ---------------------------------------------------------------------------------


def _agrees(citizen: tuple[int, int | None, str | None], candidate: _Candidate) -> bool:
    """Tell whether the register's birth year and sex do not contradict what the facility sent."""
    _id, birth_year, sex = citizen
    if birth_year and candidate.birth_year and birth_year != candidate.birth_year:
        return False
    known = ("1", "2")
    return not (sex in known and candidate.sex in known and sex != candidate.sex)


def _match_citizens(candidates: Sequence[_Candidate]) -> list[_Match]:
    """Find the citizen of each candidate: by personal ID, else by the card's social-insurance number.

    At most three queries for the whole list. A match whose birth year or sex contradicts the register
    is not linked (a mistyped ID must not put a visit in a stranger's book): it gets a warning instead.
    """
    citizens: dict[str, tuple[int, int | None, str | None]] = {}
    wanted = {c.personal_id for c in candidates if c.personal_id}
    if wanted:
        for pid, cid, year, sex in Citizen.objects.filter(personal_id__in=wanted).values_list(
            "personal_id", "id", "birth_year", "sex"
        ):
            citizens[pid] = (cid, year, sex)
    numbers = {n for c in candidates if c.personal_id not in citizens for n in c.insurance_numbers}
    holders: dict[str, set[str]] = defaultdict(set)
    if numbers:
        for number, holder in (
            InsuranceCard.objects.filter(social_insurance_number__in=numbers)
            .values_list("social_insurance_number", "holder_personal_id")
            .distinct()
        ):
            holders[number].add(holder)
        missing = {pid for pids in holders.values() for pid in pids} - citizens.keys()
        if missing:
            for pid, cid, year, sex in Citizen.objects.filter(personal_id__in=missing).values_list(
                "personal_id", "id", "birth_year", "sex"
            ):
                citizens[pid] = (cid, year, sex)

    matches: list[_Match] = []
    for candidate in candidates:
        match = _Match()
        found = citizens.get(candidate.personal_id) if candidate.personal_id else None
        method = LinkMethod.PERSONAL_ID.value
        if found is None and candidate.insurance_numbers:
            owners = {pid for n in candidate.insurance_numbers for pid in holders.get(n, ())}
            if len(owners) > 1:
                match.problems.append(
                    Problem(code=LINK_AMBIGUOUS, field="MA_THE_BHYT", severity="warning").as_dict()
                )
            elif owners:
                found = citizens.get(owners.pop())
                method = LinkMethod.SOCIAL_INSURANCE_NUMBER.value
        if found is not None:
            if _agrees(found, candidate):
                match.citizen_id, match.method = found[0], method
            else:
                match.problems.append(Problem(code=LINK_IDENTITY_MISMATCH, severity="warning").as_dict())
        matches.append(match)
    return matches


# --- recording -------------------------------------------------------------------------------


def record_visits(*, visits: Sequence[VisitInput | PreparedVisit]) -> list[VisitOutcome]:
    """Store a batch of visits in one transaction; return one outcome per input, in order.

    A visit is identified by (facility code, MA_LK). A new one is ``accepted`` as version 1; one whose
    content hash equals the stored version is ``unchanged`` and nothing is written; any other is
    ``replaced``: the stored version goes to ``VisitVersion`` and the visit's rows are rewritten.
    The same visit twice in one batch is applied in order. Raises ``DomainError``
    (VISIT_FACILITY_NOT_FOUND) before writing anything when a facility is not in the register.
    A ``PreparedVisit`` (``prepare_visit``) stands for its ``VisitInput``, with the same outcome.
    """
    if not visits:
        return []
    facilities = _facility_ids({v.facility_code for v in visits})
    outcomes: dict[int, VisitOutcome] = {}
    with transaction.atomic():
        for wave in _waves(visits):
            outcomes.update(_record_wave(wave, facilities))
    return [outcomes[i] for i in range(len(visits))]


def _facility_ids(codes: set[str]) -> dict[str, int]:
    found = dict(Facility.objects.filter(code__in=codes).values_list("code", "id"))
    missing = sorted(codes - found.keys())
    if missing:
        raise DomainError(
            FACILITY_NOT_FOUND,
            codes=", ".join(missing),
            details=[{"field": "MA_CSKCB", "value": code} for code in missing],
        )
    return found


def _waves(
    visits: Sequence[VisitInput | PreparedVisit],
) -> list[list[tuple[int, VisitInput | PreparedVisit]]]:
    """Split the batch so that each wave holds a visit at most once (repeats go to later waves)."""
    waves: list[list[tuple[int, VisitInput | PreparedVisit]]] = []
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for index, visit in enumerate(visits):
        n = seen[visit.key]
        seen[visit.key] += 1
        if n == len(waves):
            waves.append([])
        waves[n].append((index, visit))
    return waves


def _stored_versions(keys: list[tuple[str, str]]) -> dict[tuple[str, str], _Stored]:
    wanted = set(keys)
    rows = Visit.objects.filter(
        facility_code__in={k[0] for k in keys}, ma_lk__in={k[1] for k in keys}
    ).values_list(
        "facility_code",
        "ma_lk",
        "id",
        "version",
        "content_hash",
        "citizen_id",
        "link_method",
        "linked_at",
        "received_at",
        "submission_ref",
    )
    return {
        (fc, lk): _Stored(id_, version, content_hash, citizen_id, link_method, linked_at, received_at, ref)
        for fc, lk, id_, version, content_hash, citizen_id, link_method, linked_at, received_at, ref in rows
        if (fc, lk) in wanted
    }


def _record_wave(
    wave: list[tuple[int, VisitInput | PreparedVisit]], facilities: dict[str, int]
) -> dict[int, VisitOutcome]:
    keys = [visit.key for _i, visit in wave]
    loading.lock_visit_keys(keys)
    stored = _stored_versions(keys)

    outcomes: dict[int, VisitOutcome] = {}
    to_write: list[_Pending] = []
    for index, visit in wave:
        previous = stored.get(visit.key)
        if previous is None:
            # New: its tables are rendered later, while they stream to the database.
            to_write.append(_start(index, visit))
            continue
        pending = _prepare(index, visit)
        if pending.content_hash == previous.content_hash:
            outcomes[index] = VisitOutcome(
                visit.facility_code,
                visit.ma_lk,
                VisitStatus.UNCHANGED,
                previous.id,
                previous.version,
                previous.citizen_id,
            )
        else:
            pending.previous = previous
            to_write.append(pending)
    if not to_write:
        return outcomes

    now = timezone.now()
    matches = _match_citizens([p.candidate for p in to_write])
    replaced = [p.previous for p in to_write if p.previous is not None]
    if replaced:
        _keep_previous_versions(replaced, now=now)
        _delete_rows_of([s.id for s in replaced])
    _assign_ids(to_write)

    with loading.local_time_writes():
        for part in _PARTS:
            if any(p.has(part) for p in to_write):
                table = _LINE_MAPS.get(part) or _DOCUMENT_MAPS.get(part)
                if table is None:
                    loading.insert_rows(
                        RawDocument._meta.db_table, _RAW_COLUMNS, _part_lines(part, to_write), time_columns=()
                    )
                else:
                    columns = _ITEM_PREFIX.get(part, ("visit_id",)) + table.columns
                    loading.insert_rows(
                        table.db_table, columns, _part_lines(part, to_write), time_columns=table.time_columns
                    )
        # Visits last: their rows carry the hash and the warnings, complete only now.
        inserts: list[str] = []
        updates: list[str] = []
        for pending, match in zip(to_write, matches, strict=True):
            outcome, head = _visit_row(pending, match, facilities, now)
            outcomes[pending.index] = outcome
            if pending.previous is None:
                inserts.append(f"{pending.visit_id}\t{fm.copy_value(now)}\t{head}\t{pending.summary}")
            else:
                updates.append(f"{pending.visit_id}\t{head}\t{pending.summary}")
        visit_table = Visit._meta.db_table
        loading.insert_rows(visit_table, _VISIT_INSERT_COLUMNS, inserts, time_columns=_VISIT_TIMES)
        loading.update_rows(visit_table, _VISIT_UPDATE_COLUMNS, updates, time_columns=_VISIT_TIMES)
    return outcomes


_ITEM_PREFIX: dict[str, tuple[str, ...]] = {
    "services": ("id", "visit_id", "category"),
    "results": ("visit_id", "service_line_id", "category"),
}
_RAW_COLUMNS = ("visit_id", "table", "payload")


def _assign_ids(to_write: list[_Pending]) -> None:
    """Give new visits and every service line an id, so results can point at their line before COPY."""
    new_ids = iter(loading.allocate_ids(Visit, sum(1 for p in to_write if p.previous is None)))
    line_ids = iter(loading.allocate_ids(ServiceLine, sum(p.service_count for p in to_write)))
    for pending in to_write:
        pending.visit_id = pending.previous.id if pending.previous is not None else next(new_ids)
        if pending.source is not None:
            services = pending.source.services or ()
            pending.service_categories = [category_for_cost_group(row.get("MA_NHOM")) for row in services]
        pending.service_ids = [next(line_ids) for _category in pending.service_categories]


def _part_lines(part: str, to_write: list[_Pending]) -> Iterator[str]:
    """Yield the COPY lines of one table for every visit, rendering each visit's rows as they go out."""
    for pending in to_write:
        lines = _render_part(pending, part)
        if not lines:
            continue
        visit_id = pending.visit_id
        if part == "services":
            for line_id, category, line in zip(
                pending.service_ids, pending.service_categories, lines, strict=True
            ):
                yield f"{line_id}\t{visit_id}\t{category}\t{line}"
        elif part == "results":
            picks = pending.result_services
            if picks is None:
                source = pending.source
                assert source is not None
                picks = _service_for_results(source.services or [], source.results or [])
            for pick, line in zip(picks, lines, strict=True):
                if pick is None:
                    yield f"{visit_id}\t{fm.NULL}\t\t{line}"
                else:
                    yield f"{visit_id}\t{pending.service_ids[pick]}\t{pending.service_categories[pick]}\t{line}"
        else:
            for line in lines:
                yield f"{visit_id}\t{line}"


def _visit_row(
    pending: _Pending, match: _Match, facilities: dict[str, int], now: dt.datetime
) -> tuple[VisitOutcome, str]:
    """The outcome of a written visit and the loader-computed columns of its row (``_VISIT_META``)."""
    for part in _PARTS:  # tables no visit of the wave had were never rendered; this adds nothing to the hash
        _render_part(pending, part)
    previous = pending.previous
    if previous is not None and previous.link_method == LinkMethod.MANUAL and match.citizen_id is None:
        # A person linked this visit by hand; a correction that names nobody keeps that link.
        match = _Match(previous.citizen_id, LinkMethod.MANUAL.value, match.problems)
    linked_at = None
    if match.citizen_id is not None:
        kept = previous is not None and previous.citizen_id == match.citizen_id
        linked_at = previous.linked_at if kept and previous is not None else now
    version = previous.version + 1 if previous is not None else 1
    problems = pending.problems + match.problems
    numbers = pending.candidate.insurance_numbers
    meta = (
        now,
        facilities[pending.facility_code],
        pending.facility_code,
        pending.ma_lk,
        version,
        pending.content_hash,
        pending.received_at or now,
        pending.submission_ref or "",
        match.citizen_id,
        match.method,
        linked_at,
        pending.birth_date,
        pending.candidate.birth_year,
        numbers[-1] if numbers else None,
        pending.visit_year,
        pending.follow_up_on,
        list(pending.warnings or ()) + problems,
    )
    status = VisitStatus.REPLACED if previous is not None else VisitStatus.ACCEPTED
    outcome = VisitOutcome(
        pending.facility_code,
        pending.ma_lk,
        status,
        pending.visit_id,
        version,
        match.citizen_id,
        tuple(problems),
    )
    return outcome, "\t".join(fm.copy_value(value) for value in meta)


def _service_for_results(services: list[Row], results: list[Row]) -> list[int | None]:
    """Pick, for each result, the index of its service line: same MA_DICH_VU in the visit (DOMAIN.md §4).

    When the code appears on several lines (a test repeated during a stay), take the latest one ordered
    before the result; failing that, the first.
    """
    if not results:
        return []
    by_code: dict[str, list[int]] = {}
    for i, row in enumerate(services):
        code = row.get("MA_DICH_VU")
        if code is not None:
            by_code.setdefault(str(code).strip(), []).append(i)
    ordered_at: list[dt.datetime | None] | None = None
    picks: list[int | None] = []
    for row in results:
        code = row.get("MA_DICH_VU")
        lines = by_code.get(str(code).strip()) if code is not None else None
        if not lines:
            picks.append(None)
        elif len(lines) == 1:
            picks.append(lines[0])
        else:
            if ordered_at is None:
                ordered_at = [_local_time(line.get("NGAY_YL")) for line in services]
            picks.append(_latest_before(lines, ordered_at, _local_time(row.get("NGAY_KQ"))))
    return picks


def _local_time(value: object) -> dt.datetime | None:
    if type(value) is dt.datetime and value.tzinfo is None:
        return value
    return _optional(fm.parse_time, value)  # type: ignore[no-any-return]


def _latest_before(
    lines: list[int], ordered_at: list[dt.datetime | None], result_at: dt.datetime | None
) -> int:
    best, best_at = lines[0], None
    if result_at is None:
        return best
    for i in lines:
        ordered = ordered_at[i]
        if ordered is not None and ordered <= result_at and (best_at is None or ordered >= best_at):
            best, best_at = i, ordered
    return best


# --- earlier versions ------------------------------------------------------------------------


def _keep_previous_versions(replaced: list[_Stored], *, now: dt.datetime) -> None:
    stored = stored_visit_inputs([s.id for s in replaced])
    VisitVersion.objects.bulk_create(
        [
            VisitVersion(
                visit_id=s.id,
                version=s.version,
                submission_ref=s.submission_ref,
                received_at=s.received_at,
                replaced_at=now,
                content_hash=s.content_hash,
                payload=visit_input_payload(stored[s.id]),
            )
            for s in replaced
        ]
    )


def _delete_rows_of(visit_ids: list[int]) -> None:
    # Results first: they point at service lines.
    for table in (fm.RESULTS, fm.DRUGS, fm.SERVICES, fm.NOTES, *(t for _a, t in fm.DOCUMENT_TABLES)):
        table.model.objects.filter(visit_id__in=visit_ids).delete()  # type: ignore[attr-defined]
    RawDocument.objects.filter(visit_id__in=visit_ids).delete()


def stored_visit_inputs(visit_ids: Iterable[int]) -> dict[int, VisitInput]:
    """Rebuild the input of stored visits (field name → value), as a later ``record_visits`` would get it."""
    ids = list(visit_ids)
    visit_columns = [column for _src, column in fm.VISIT.pairs] + [fm.VISIT.extra_column]
    inputs: dict[int, VisitInput] = {}
    for row in Visit.objects.filter(id__in=ids).values(
        "id", "facility_code", "ma_lk", "submission_ref", "received_at", "warnings", *visit_columns
    ):
        inputs[row["id"]] = VisitInput(
            facility_code=row["facility_code"],
            ma_lk=row["ma_lk"],
            submission_ref=row["submission_ref"],
            received_at=row["received_at"],
            summary=fm.VISIT.to_source(row),
            warnings=list(row["warnings"] or []),
        )
    for attr, table in (*fm.LINE_TABLES, *fm.DOCUMENT_TABLES):
        queryset = table.model.objects.filter(visit_id__in=ids).order_by("visit_id", "pk")  # type: ignore[attr-defined]
        for stored in queryset.values("visit_id", *table.columns):
            target = inputs[stored["visit_id"]]
            if attr in ("drugs", "services", "results", "notes"):
                getattr(target, attr).append(table.to_source(stored))
            else:
                setattr(target, attr, table.to_source(stored))
    for visit_id, name, payload in RawDocument.objects.filter(visit_id__in=ids).values_list(
        "visit_id", "table", "payload"
    ):
        inputs[visit_id].raw_documents[name] = payload
    return inputs


def visit_input_payload(visit: VisitInput) -> dict[str, Any]:
    """The JSON form of a ``VisitInput`` kept in ``VisitVersion.payload`` (decimals as text, ISO times)."""
    data = {
        "facility_code": visit.facility_code,
        "ma_lk": visit.ma_lk,
        "submission_ref": visit.submission_ref,
        "received_at": visit.received_at,
        "summary": visit.summary,
        "drugs": visit.drugs,
        "services": visit.services,
        "results": visit.results,
        "notes": visit.notes,
        "discharge_paper": visit.discharge_paper,
        "record_summary": visit.record_summary,
        "referral": visit.referral,
        "follow_up": visit.follow_up,
        "raw_documents": visit.raw_documents,
        "warnings": visit.warnings,
    }
    return json.loads(fm.dump_json(data))


# --- linking later ---------------------------------------------------------------------------


def link_pending_visits(*, personal_ids: Iterable[str] | None = None) -> int:
    """Link unlinked visits to citizens who are now in the register; return how many were linked.

    With ``personal_ids`` (citizens just imported) only their visits are looked at: by personal ID and by
    the social-insurance numbers of their cards. Without, every unlinked visit is tried, in chunks, each
    in its own transaction (safe to run nightly and to interrupt).
    """
    linked = 0
    if personal_ids is None:
        last_id = 0
        while True:
            chunk = list(
                Visit.objects.filter(citizen__isnull=True, id__gt=last_id)
                .order_by("id")
                .values_list("id", "personal_id", "card_codes", "birth_year", "sex")[:_LINK_CHUNK]
            )
            if not chunk:
                return linked
            last_id = chunk[-1][0]
            linked += _link_chunk(chunk)
    wanted = sorted({pid.strip() for pid in personal_ids if pid and pid.strip()})
    for start in range(0, len(wanted), _LINK_CHUNK):
        part = wanted[start : start + _LINK_CHUNK]
        numbers = set(
            InsuranceCard.objects.filter(holder_personal_id__in=part).values_list(
                "social_insurance_number", flat=True
            )
        )
        pending = Visit.objects.filter(citizen__isnull=True)
        fields = ("id", "personal_id", "card_codes", "birth_year", "sex")
        rows = {row[0]: row for row in pending.filter(personal_id__in=part).values_list(*fields)}
        if numbers:
            rows.update(
                {row[0]: row for row in pending.filter(insurance_number__in=numbers).values_list(*fields)}
            )
        linked += _link_chunk(sorted(rows.values()))
    return linked


def _link_chunk(rows: Sequence[tuple[int, str | None, str | None, int | None, str | None]]) -> int:
    if not rows:
        return 0
    candidates = [
        _Candidate(_personal_id(pid), _insurance_numbers(cards), birth_year, sex)
        for _id, pid, cards, birth_year, sex in rows
    ]
    links = [
        (row[0], match.citizen_id, match.method)
        for row, match in zip(rows, _match_citizens(candidates), strict=True)
        if match.citizen_id is not None
    ]
    with transaction.atomic():
        return loading.link_visits(links, now=timezone.now())
