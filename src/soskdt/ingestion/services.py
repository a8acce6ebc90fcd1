"""Receive QĐ 130 files, archive them as received, and load them HOSO by HOSO into the health book.

``receive_file`` archives a file and creates its ``Submission``; ``process_submission`` streams the archived
file through the hardened parser and the validator and hands valid visits to ``healthbook.services`` in
batches. Each batch (its visits and their per-HOSO outcomes) commits in one transaction and advances
``Submission.last_index_done``, so a crash or restart resumes after the last committed HOSO: nothing is lost
and nothing is counted twice.

Only one run owns a submission at a time: a run claims it with a fresh ``claim_token`` (a lease renewed by
``heartbeat_at`` at every batch) and each batch commits only while the row still carries that token. A worker
killed mid-file leaves its lease behind; ``resume_unfinished`` (``soskdt ingest --resume``, run before the
worker starts) takes it over, and a queued task takes it over once the lease is older than ``LEASE``.
"""

from __future__ import annotations

import datetime as dt
import gc
import gzip
import hashlib
import logging
import multiprocessing
import os
import secrets
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import IO, Any, BinaryIO, cast

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from soskdt.core.errors import DomainError, NotFound, Problem, define, message_for
from soskdt.healthbook import services as book
from soskdt.healthbook.records import VisitInput, VisitStatus
from soskdt.ingestion import archive
from soskdt.ingestion.models import (
    FacilityApiKey,
    Submission,
    SubmissionSource,
    SubmissionStatus,
    SubmissionVisit,
    VisitOutcome,
)
from soskdt.ingestion.parser import ParserLimits, RawHoso, iter_visits, read_hoso
from soskdt.ingestion.records import FileProblem, ParsedVisit, ValidatedVisit
from soskdt.ingestion.validation import validate_visit
from soskdt.registry.models import Facility

log = logging.getLogger("soskdt.ingestion")

FACILITY_NOT_ALLOWED = define(
    "FACILITY_NOT_ALLOWED",
    _(
        "Cơ sở chỉ được gửi dữ liệu của chính mình: mã cơ sở {facility} trong tệp khác mã cơ sở của người gửi."
    ),
)
FACILITY_UNKNOWN = define("FACILITY_UNKNOWN", _("Mã cơ sở KCB {facility} chưa có trong danh mục cơ sở."))
FILE_TOO_LARGE = define("FILE_TOO_LARGE", _("Tệp vượt quá dung lượng cho phép."))
FILE_UNREADABLE = define("FILE_UNREADABLE", _("Không đọc được tệp."))
API_KEY_INVALID = define("API_KEY_INVALID", _("Khóa API không hợp lệ hoặc đã bị thu hồi."))
SUBMISSION_NOT_FOUND = define("SUBMISSION_NOT_FOUND", _("Không tìm thấy lượt gửi dữ liệu."))

BATCH_SIZE = 200
#: Files at least this large are parsed by several processes (``parse_helpers``).
PARALLEL_MIN_BYTES = 4 * 1024**2
#: A run that has not committed a batch for this long is presumed dead; another run may take over.
LEASE = dt.timedelta(minutes=2)

#: ``progress(visits_done, visits_declared_or_None)`` after each committed batch.
Progress = Callable[[int, int | None], None]

_COUNTED = ("accepted", "replaced", "unchanged", "rejected", "unlinked")


# --- facility API keys ------------------------------------------------------------------------------


def create_api_key(*, facility: Facility, label: str = "") -> tuple[str, FacilityApiKey]:
    """Create a key for ``facility``; return (plaintext shown once, key). Only an argon2 hash is stored."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    plaintext = f"skf_{prefix}_{secret}"
    key = FacilityApiKey.objects.create(
        facility=facility, label=label, prefix=prefix, key_hash=make_password(secret)
    )
    return plaintext, key


def authenticate_api_key(plaintext: str) -> FacilityApiKey | None:
    """Return the active key matching ``plaintext`` (with its facility), or None."""
    parts = (plaintext or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "skf" or not parts[1] or not parts[2]:
        return None
    key = (
        FacilityApiKey.objects.select_related("facility")
        .filter(prefix=parts[1], revoked_at__isnull=True)
        .first()
    )
    if key is None or not check_password(parts[2], key.key_hash):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > dt.timedelta(minutes=1):
        FacilityApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def revoke_api_key(*, key: FacilityApiKey) -> None:
    FacilityApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


# --- receiving --------------------------------------------------------------------------------------


def receive_file(
    *,
    stream: BinaryIO | IO[bytes],
    file_name: str,
    source: str,
    facility: Facility | None = None,
    api_key: FacilityApiKey | None = None,
    sender: Any = None,
    sender_label: str = "",
    reprocess_of: Submission | None = None,
    received_at: dt.datetime | None = None,
) -> Submission:
    """Archive ``stream`` as received (gzip, SHA-256) and create its submission in state ``received``.

    The stream is copied in chunks: a file of any size never sits in memory. ``received_at`` is for the
    demo data only (files "received" on earlier days).
    """
    limits = ParserLimits.from_settings()
    try:
        relative, sha, size = archive.store(stream, max_bytes=limits.max_file_bytes)  # type: ignore[arg-type]
    except ValueError as exc:
        raise DomainError(FILE_TOO_LARGE, status=413) from exc
    return Submission.objects.create(
        source=source,
        facility=facility,
        api_key=api_key,
        sender=sender if getattr(sender, "pk", None) else None,
        sender_label=sender_label,
        file_name=Path(file_name).name[:255] or "upload.xml",
        size=size,
        sha256=sha,
        archive_path=relative,
        reprocess_of=reprocess_of,
        received_at=received_at or timezone.now(),
    )


def envelope_facility_code(submission: Submission) -> str | None:
    """Read the envelope's MACSKCB from the archived file without loading it (stops at the first HOSO)."""
    with archive.open_archived(submission.archive_path) as handle:
        stream = iter_visits(handle, file_name=submission.file_name)
        try:
            for _item in stream:
                break
        finally:
            stream.close()
        return stream.envelope.facility_code


def refuse_other_facility(*, submission: Submission, facility: Facility) -> Problem | None:
    """Refuse a file whose envelope MACSKCB is not ``facility``'s code: mark it failed, return the problem.

    Nothing of a refused file is loaded; the file stays in the archive with its submission.
    """
    code = envelope_facility_code(submission)
    if not code or code == facility.code:
        return None
    problem = Problem(
        FACILITY_NOT_ALLOWED,
        message_for(FACILITY_NOT_ALLOWED, facility=code),
        file=submission.file_name,
        field="MACSKCB",
        value=code,
    )
    Submission.objects.filter(pk=submission.pk).update(
        status=SubmissionStatus.FAILED,
        envelope_facility_code=code[:20],
        file_errors=[problem.as_dict()],
        finished_at=timezone.now(),
    )
    submission.refresh_from_db()
    return problem


def enqueue_processing(*, submission: Submission) -> None:
    """Queue the durable background job for ``submission`` once the current transaction commits."""
    from soskdt.ingestion.tasks import process_submission_task

    submission_id = str(submission.pk)
    transaction.on_commit(lambda: process_submission_task.enqueue(submission_id))


# --- processing -------------------------------------------------------------------------------------


class _LostClaim(Exception):
    """Another run took the submission over: this one stops without committing anything more."""


def _problem_dicts(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    return [p.as_dict() for p in problems]


def to_visit_input(validated: ValidatedVisit, *, submission_ref: str, received_at: dt.datetime) -> VisitInput:
    """Map a valid visit's typed values onto the health book's input record."""
    values = validated.values

    def single(table: str) -> dict[str, Any] | None:
        rows = values.get(table)
        return dict(rows[0]) if rows else None

    parsed = validated.parsed
    return VisitInput(
        facility_code=parsed.facility_code or "",
        ma_lk=parsed.ma_lk or "",
        submission_ref=submission_ref,
        received_at=received_at,
        summary=single("XML1") or {},
        drugs=values.get("XML2") or [],  # type: ignore[arg-type]
        services=values.get("XML3") or [],  # type: ignore[arg-type]
        results=values.get("XML4") or [],  # type: ignore[arg-type]
        notes=values.get("XML5") or [],  # type: ignore[arg-type]
        discharge_paper=single("XML7"),
        record_summary=single("XML8"),
        referral=single("XML13"),
        follow_up=single("XML14"),
        raw_documents=dict(parsed.raw_documents),
        warnings=_problem_dicts(validated.warnings),
    )


@dataclass(slots=True)
class _Item:
    """What reading one HOSO gives (or a file-level problem): plain data, cheap to send between processes."""

    index: int
    ma_lk: str = ""
    facility_code: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    visit: book.PreparedVisit | None = None
    declared: int | None = None  # SOLUONGHOSO, for progress
    file_problem: dict[str, Any] | None = None
    parsed: bool = False  # False for a HOSO the parser could not read


@dataclass(frozen=True, slots=True)
class _Source:
    """Where a run reads the file: the gzip archive (a submission) or a plain file (a dry run)."""

    path: str
    file_name: str
    compressed: bool
    resume_after: int
    submission_ref: str
    received_at: dt.datetime
    today: dt.date | None
    map_inputs: bool

    def open(self) -> IO[bytes]:
        if self.compressed:
            return cast(IO[bytes], gzip.open(self.path, "rb"))
        return open(self.path, "rb")  # noqa: SIM115 - closed by the caller


@dataclass(frozen=True, slots=True)
class _HandedOff:
    """In helper 0's output, where the HOSO at ``index`` would be: helper ``helper`` sends its items."""

    index: int
    helper: int


def _read_items(source: _Source, *, share: tuple[frozenset[int], int] | None = None) -> Iterator[_Item]:
    """Parse and validate the HOSO after ``resume_after``; with ``share`` = (slots, n) only those whose
    position i has ``i % n in slots``."""
    for entry in _read_entries(source, share=share):
        assert isinstance(entry, _Item)
        yield entry


def _read_entries(
    source: _Source,
    *,
    share: tuple[frozenset[int], int] | None = None,
    hand_off: Callable[[RawHoso, int | None], int] | None = None,
) -> Iterator[_Item | _HandedOff]:
    """``_read_items``, where with ``hand_off`` the HOSO after ``resume_after`` outside ``share`` go to
    ``hand_off(hoso, declared)`` (see ``iter_visits``), which says which helper finishes it: a ``_HandedOff``
    takes its place in the output."""
    after = source.resume_after
    if share is None:
        only = (lambda i: i > after) if after else None
    else:
        slots, n = share
        only = lambda i: i > after and i % n in slots  # noqa: E731
    handed: list[_HandedOff] = []

    def give(hoso: RawHoso) -> None:
        if hoso.index > after and hand_off is not None:
            handed.append(_HandedOff(hoso.index, hand_off(hoso, stream.envelope.declared_count)))

    with source.open() as handle:
        stream = iter_visits(
            handle, file_name=source.file_name, only=only, hand_off=give if hand_off is not None else None
        )
        last = after
        try:
            for item in stream:
                if handed:
                    # Handed off before this item was made, so they come first, as in a serial run.
                    last = max(last, handed[-1].index)
                    yield from handed
                    handed.clear()
                if isinstance(item, FileProblem):
                    yield _Item(last, file_problem=item.as_dict())
                elif isinstance(item, ParsedVisit):
                    last = item.index
                    yield _checked(item, source, stream.envelope.declared_count)
                else:
                    last = max(last, int(item.extra.get("index", 0) or 0))
                    yield _Item(
                        last,
                        ma_lk=(item.record or "")[:100],
                        facility_code=stream.envelope.facility_code,
                        errors=[item.as_dict()],
                        declared=stream.envelope.declared_count,
                    )
            yield from handed
        finally:
            stream.close()


def _finished_items(source: _Source, hoso: RawHoso, declared: int | None) -> Iterator[_Item]:
    """What ``_read_items`` would give for a HOSO another process handed off."""
    for item in read_hoso(hoso, file_name=source.file_name):
        if isinstance(item, ParsedVisit):
            yield _checked(item, source, declared)
        else:
            yield _Item(
                max(hoso.index, int(item.extra.get("index", 0) or 0)),
                ma_lk=(item.record or "")[:100],
                facility_code=hoso.facility_code,
                errors=[item.as_dict()],
                declared=declared,
            )


def _checked(parsed: ParsedVisit, source: _Source, declared: int | None) -> _Item:
    validated = validate_visit(parsed, today=source.today)
    visit = None
    if source.map_inputs and not validated.errors:
        # Rendered here, in the parse helper when there is one: the loader only adds ids and writes, and
        # the rendered text is several times cheaper to send between processes than typed values.
        visit = book.prepare_visit(
            to_visit_input(validated, submission_ref=source.submission_ref, received_at=source.received_at)
        )
    return _Item(
        parsed.index,
        ma_lk=(parsed.ma_lk or "")[:100],
        facility_code=parsed.facility_code,
        errors=_problem_dicts(validated.errors),
        warnings=_problem_dicts(validated.warnings),
        visit=visit,
        declared=declared,
        parsed=True,
    )


# Parsing and validating is CPU-bound Python: a large file is read by ``helpers`` forked processes while this
# process loads the batches in file order. Helper 0 reads the file: it parses every helpers-th HOSO itself and
# hands the others, as text, to helpers 1…n-1 in turn, which never open the file. Decompressing the archive and
# scanning the envelope (about 0.17 ms a visit) is then done once, not once per helper, and a handed-off HOSO
# costs about 0.02 ms to send. Helper 0's output gives the order: in place of a HOSO it handed off, a
# ``_HandedOff`` says which helper sends its items (one group per HOSO, in the order handed).
#
# No wait can close a circle. Helper 0 sends every HOSO it holds for the others before it sends anything of
# its own, and a finishing helper sends each group as soon as it has finished what it was given: whatever
# this process waits for is on its way, or helper 0 is still making it. In that case a finishing helper holds
# at most the groups of the HOSO handed off since helper 0's last chunk: fewer than _CHUNK, in at most
# _CHUNK / _HAND_OFF_CHUNK + 1 messages, far fewer than _QUEUE_CHUNKS. So it never blocks on its result queue,
# it keeps taking hand-offs, and helper 0 never blocks for long on its inbox.
_CHUNK = 16
_QUEUE_CHUNKS = 32
_HAND_OFF_CHUNK = 8
_HAND_OFF_CHUNKS = 8


@contextmanager
def _relaxed_gc() -> Iterator[None]:
    """Fewer cyclic-GC passes while many short-lived row dicts are built: they form no cycles, and each full
    pass walks every live object (a tenth of the parse and unpickle time with the default thresholds)."""
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], 50_000), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _in_helper() -> None:
    gc.freeze()  # what the child inherited is never garbage here
    gc.set_threshold(50_000, *gc.get_threshold()[1:])


def _reading_helper(source: _Source, helpers: int, inboxes: list[Any], queue: Any) -> None:
    """Helper 0, in a forked child: read the file, parse its share, hand the other HOSO to the other helpers;
    send chunks of its output (items and ``_HandedOff``, in file order), then None. Never touches the database."""
    _in_helper()
    outgoing: list[list[tuple[RawHoso, int | None]]] = [[] for _ in inboxes]

    def send(k: int) -> None:
        if outgoing[k]:
            inboxes[k].put(outgoing[k])
            outgoing[k] = []

    def hand_off(hoso: RawHoso, declared: int | None) -> int:
        helper = hoso.index % helpers
        outgoing[helper - 1].append((hoso, declared))
        if len(outgoing[helper - 1]) >= _HAND_OFF_CHUNK:
            send(helper - 1)
        return helper

    try:
        chunk: list[_Item | _HandedOff] = []
        for entry in _read_entries(
            source, share=(frozenset({0}), helpers), hand_off=hand_off if inboxes else None
        ):
            chunk.append(entry)
            if len(chunk) >= _CHUNK:
                for k in range(len(inboxes)):
                    send(k)
                queue.put(chunk)
                chunk = []
        for k in range(len(inboxes)):
            send(k)
        if chunk:
            queue.put(chunk)
        queue.put(None)
    except BaseException:
        queue.put(RuntimeError(f"parse helper 0/{helpers} failed:\n{traceback.format_exc()}"))
    finally:
        for inbox in inboxes:
            inbox.put(None)


def _finishing_helper(source: _Source, k: int, helpers: int, inbox: Any, queue: Any) -> None:
    """Helper k > 0, in a forked child: finish the HOSO helper 0 hands over, in order; send the items of each
    as one group, as soon as they are made."""
    _in_helper()
    try:
        while (hosos := inbox.get()) is not None:
            queue.put([list(_finished_items(source, hoso, declared)) for hoso, declared in hosos])
        queue.put(None)
    except BaseException:
        queue.put(RuntimeError(f"parse helper {k}/{helpers} failed:\n{traceback.format_exc()}"))


def _drain(queue: Any, process: Any) -> Iterator[Any]:
    while True:
        try:
            chunk = queue.get(timeout=1.0)
        except Empty:
            if not process.is_alive():
                raise RuntimeError(
                    f"parse helper {process.name} died (exit code {process.exitcode})"
                ) from None
            continue
        if chunk is None:
            return
        if isinstance(chunk, BaseException):
            raise chunk
        yield from chunk


def _parallel_items(source: _Source, helpers: int) -> Iterator[_Item]:
    context = multiprocessing.get_context("fork")
    queues = [context.Queue(maxsize=_QUEUE_CHUNKS) for _ in range(helpers)]
    inboxes = [context.Queue(maxsize=_HAND_OFF_CHUNKS) for _ in range(helpers - 1)]
    processes = [
        context.Process(
            target=_reading_helper,
            args=(source, helpers, inboxes, queues[0]),
            name="soskdt-parse-0",
            daemon=True,
        ),
        *(
            context.Process(
                target=_finishing_helper,
                args=(source, k, helpers, inboxes[k - 1], queues[k]),
                name=f"soskdt-parse-{k}",
                daemon=True,
            )
            for k in range(1, helpers)
        ),
    ]
    for process in processes:
        process.start()
    try:
        groups = [_drain(q, p) for q, p in zip(queues[1:], processes[1:], strict=True)]
        for entry in _drain(queues[0], processes[0]):
            if isinstance(entry, _HandedOff):
                group = next(groups[entry.helper - 1], None)
                if group is None:
                    raise RuntimeError(f"parse helper {entry.helper} stopped before HOSO {entry.index}")
                yield from group
            else:
                yield entry
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)
        for queue in [*queues, *inboxes]:
            queue.close()
            queue.cancel_join_thread()


def parse_helpers(size: int) -> int:
    """How many forked processes parse a file of ``size`` bytes while this one loads (0: it parses itself).

    ``SOSKDT["INGEST_PARSE_HELPERS"]`` if set, else one per CPU (at most 4); 0 for a file under
    PARALLEL_MIN_BYTES, on a single CPU, or where fork is unavailable.
    """
    configured = (getattr(settings, "SOSKDT", None) or {}).get("INGEST_PARSE_HELPERS")
    if configured is not None:
        wanted = int(configured)
    else:
        cpus = os.cpu_count() or 1
        wanted = 0 if size < PARALLEL_MIN_BYTES or cpus < 2 else min(cpus, 4)
    if wanted < 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return wanted


def _items(source: _Source, helpers: int) -> Iterator[_Item]:
    return _parallel_items(source, helpers) if helpers > 0 else _read_items(source)


_STATUS_OUTCOME = {
    VisitStatus.ACCEPTED: VisitOutcome.ACCEPTED,
    VisitStatus.REPLACED: VisitOutcome.REPLACED,
    VisitStatus.UNCHANGED: VisitOutcome.UNCHANGED,
}


class _Processor:
    """One pass over a file; with ``write`` it commits outcomes batch by batch under the run's claim."""

    def __init__(
        self,
        submission: Submission,
        *,
        write: bool,
        claim: uuid.UUID | None,
        batch_size: int,
        progress: Progress | None,
    ) -> None:
        self.submission = submission
        self.write = write
        self.claim = claim
        self.batch_size = max(1, batch_size)
        self.progress = progress
        self.resume_after = submission.last_index_done
        self.allowed_facility = submission.facility.code if submission.facility_id else None  # type: ignore[union-attr]
        self.file_errors: list[dict[str, Any]] = list(submission.file_errors or [])
        self.counts = {key: getattr(submission, f"visits_{key}") for key in _COUNTED}
        self.total = submission.visits_total
        self.rows: list[SubmissionVisit] = []  # every outcome, kept only when not writing (dry run)
        self.envelope_code: str | None = submission.envelope_facility_code or None
        self.facility_id: int | None = submission.facility_id
        self.declared: int | None = None
        self._known: dict[str, int | None] = {}
        self._batch_rows: list[SubmissionVisit] = []
        self._batch_inputs: list[tuple[SubmissionVisit, book.PreparedVisit]] = []
        self._batch_last = 0

    # --- reading ---------------------------------------------------------------------------------------
    def run(self, items: Iterable[_Item]) -> None:
        for item in items:
            self._take(item)
            if len(self._batch_rows) >= self.batch_size:
                self._flush()
        self._flush()

    def _facility_id(self, code: str) -> int | None:
        if code not in self._known:
            self._known[code] = Facility.objects.filter(code=code).values_list("id", flat=True).first()
        return self._known[code]

    def unreadable(self) -> bool:
        """A file that yielded no HOSO at all and has a blocking file-level error could not be read."""
        fatal = any(e.get("severity", "error") == "error" for e in self.file_errors)
        return fatal and self.total == 0

    def _take(self, item: _Item) -> None:
        if item.file_problem is not None:
            if item.file_problem not in self.file_errors:
                self.file_errors.append(item.file_problem)
            return
        if item.index <= self.resume_after:
            return  # committed by an earlier, interrupted run
        self.declared = item.declared
        code = item.facility_code or ""
        if self.envelope_code is None and code:
            self.envelope_code = code
            if self.facility_id is None:
                self.facility_id = self._facility_id(code)
        self._batch_last = max(self._batch_last, item.index)
        errors = item.errors
        if item.parsed:
            blocked = self._facility_problem(item, code)
            if blocked is not None:
                errors = [*errors, blocked.as_dict()]
        row = SubmissionVisit(
            submission=self.submission,
            index=item.index,
            ma_lk=item.ma_lk,
            facility_code=code[:5],
            outcome=VisitOutcome.REJECTED if errors else VisitOutcome.ACCEPTED,
            errors=errors,
            warnings=item.warnings,
        )
        self._batch_rows.append(row)
        if not errors and item.visit is not None and self.write:
            self._batch_inputs.append((row, item.visit))

    def _facility_problem(self, item: _Item, code: str) -> Problem | None:
        if self.allowed_facility and code != self.allowed_facility:
            blocked = FACILITY_NOT_ALLOWED
        elif code and self._facility_id(code) is None:
            blocked = FACILITY_UNKNOWN
        else:
            return None
        return Problem(
            blocked,
            message_for(blocked, facility=code),
            file=self.submission.file_name,
            record=item.ma_lk or None,
            field="MACSKCB",
            value=code,
        )

    # --- writing ---------------------------------------------------------------------------------------
    def _flush(self) -> None:
        rows, inputs, last = self._batch_rows, self._batch_inputs, self._batch_last
        if not rows:
            return
        self._batch_rows, self._batch_inputs = [], []
        counts = dict(self.counts)
        if self.write:
            with transaction.atomic():
                self._lock()
                if inputs:
                    outcomes = book.record_visits(visits=[visit for _row, visit in inputs])
                    for (row, _visit), outcome in zip(inputs, outcomes, strict=True):
                        row.outcome = _STATUS_OUTCOME[outcome.status]
                        row.visit_id = outcome.visit_id
                        row.linked = outcome.linked
                self._count(rows, counts)
                SubmissionVisit.objects.bulk_create(rows)
                Submission.objects.filter(pk=self.submission.pk).update(
                    last_index_done=last,
                    visits_total=self.total + len(rows),
                    **{f"visits_{key}": value for key, value in counts.items()},
                    file_errors=self.file_errors,
                    heartbeat_at=timezone.now(),
                    envelope_facility_code=(self.envelope_code or "")[:20],
                    facility_id=self.facility_id,
                )
        else:
            self._count(rows, counts)
            self.rows.extend(rows)
        self.counts = counts
        self.total += len(rows)
        self.resume_after = last
        if self.progress:
            self.progress(self.total, self.declared)

    def _count(self, rows: list[SubmissionVisit], counts: dict[str, int]) -> None:
        for row in rows:
            counts[str(row.outcome)] += 1
            if row.outcome != VisitOutcome.REJECTED and not row.linked and self.write:
                counts["unlinked"] += 1

    def _lock(self) -> None:
        """Inside the batch's transaction: make sure this run still owns the submission."""
        owned = (
            Submission.objects.select_for_update()
            .filter(pk=self.submission.pk, claim_token=self.claim)
            .values_list("last_index_done", flat=True)
            .first()
        )
        if owned is None or owned != self.resume_after:
            raise _LostClaim(str(self.submission.pk))

    def finish(self) -> None:
        status = SubmissionStatus.FAILED if self.unreadable() else SubmissionStatus.DONE
        with transaction.atomic():
            self._lock()
            Submission.objects.filter(pk=self.submission.pk).update(
                status=status,
                finished_at=timezone.now(),
                file_errors=self.file_errors,
                envelope_facility_code=(self.envelope_code or "")[:20],
                facility_id=self.facility_id,
                claim_token=None,
                heartbeat_at=None,
            )


def _claim(submission_id: Any, *, force: bool) -> tuple[Submission, uuid.UUID | None]:
    """Take the lease on a submission; the token is None when it is finished or another run holds it."""
    with transaction.atomic():
        try:
            submission = (
                Submission.objects.select_for_update(of=("self",))
                .select_related("facility")
                .filter(pk=submission_id)
                .first()
            )
        except (ValueError, TypeError, ValidationError):  # a malformed id is just "not found"
            submission = None
        if submission is None:
            raise NotFound(SUBMISSION_NOT_FOUND)
        if submission.status in (SubmissionStatus.DONE, SubmissionStatus.FAILED):
            return submission, None
        now = timezone.now()
        held = (
            submission.claim_token is not None
            and submission.heartbeat_at is not None
            and now - submission.heartbeat_at < LEASE
        )
        if held and not force:
            return submission, None
        token = uuid.uuid4()
        submission.claim_token = token
        submission.heartbeat_at = now
        submission.status = SubmissionStatus.PROCESSING
        submission.started_at = submission.started_at or now
        submission.save(update_fields=["claim_token", "heartbeat_at", "status", "started_at"])
        return submission, token


def _release(submission: Submission, claim: uuid.UUID) -> None:
    """After an error in this process: give the lease back so that a retry need not wait for it to expire."""
    Submission.objects.filter(pk=submission.pk, claim_token=claim).update(claim_token=None, heartbeat_at=None)


def _archived_source(submission: Submission, *, today: dt.date | None) -> _Source:
    return _Source(
        path=str(archive.archive_root() / submission.archive_path),
        file_name=submission.file_name,
        compressed=True,
        resume_after=submission.last_index_done,
        submission_ref=str(submission.pk),
        received_at=submission.received_at,
        today=today,
        map_inputs=True,
    )


def process_submission(
    *,
    submission_id: Any,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    today: dt.date | None = None,
    force: bool = False,
    helpers: int | None = None,
) -> Submission:
    """Load (or resume loading) an archived submission; safe to call again, and after a crash.

    A finished submission is returned as it is. One that another live run is processing is left to it unless
    ``force`` (``soskdt ingest --resume`` when no worker runs). Raises NotFound for an unknown id. A large file
    is parsed with the help of ``helpers`` forked processes (default ``parse_helpers(size)``).
    """
    submission, claim = _claim(submission_id, force=force)
    if claim is None:
        return submission
    processor = _Processor(submission, write=True, claim=claim, batch_size=batch_size, progress=progress)
    source = _archived_source(submission, today=today)
    try:
        with _relaxed_gc():
            processor.run(_items(source, parse_helpers(submission.size) if helpers is None else helpers))
        processor.finish()
    except _LostClaim:
        log.warning("submission %s: taken over by another run; this run stops", submission.pk)
    except BaseException:
        _release(submission, claim)
        raise
    submission.refresh_from_db()
    return submission


def check_file(
    *,
    path: Path,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    today: dt.date | None = None,
    helpers: int | None = None,
) -> tuple[Submission, list[SubmissionVisit]]:
    """Parse and validate a file without writing anything (``--dry-run``): no archive, no rows, no visits.

    Returns an unsaved submission carrying the counts, and the outcome of every HOSO.
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(archive.CHUNK):
            digest.update(chunk)
    submission = Submission(
        source=SubmissionSource.CLI,
        file_name=path.name[:255],
        size=path.stat().st_size,
        sha256=digest.hexdigest(),
        status=SubmissionStatus.PROCESSING,
    )
    processor = _Processor(submission, write=False, claim=None, batch_size=batch_size, progress=progress)
    source = _Source(
        path=str(path),
        file_name=submission.file_name,
        compressed=False,
        resume_after=0,
        submission_ref="",
        received_at=submission.received_at,
        today=today,
        map_inputs=False,
    )
    with _relaxed_gc():
        processor.run(_items(source, parse_helpers(submission.size) if helpers is None else helpers))
    submission.status = SubmissionStatus.FAILED if processor.unreadable() else SubmissionStatus.DONE
    submission.file_errors = processor.file_errors
    submission.visits_total = processor.total
    submission.envelope_facility_code = (processor.envelope_code or "")[:20]
    for key, value in processor.counts.items():
        setattr(submission, f"visits_{key}", value)
    return submission, processor.rows


def reprocess(
    *, submission_id: Any, sender: Any = None, sender_label: str = "", run: bool = True
) -> Submission:
    """Run an archived file again (after a validator fix) as a new submission of the same file.

    With ``run`` the new submission is processed here and now (CLI); otherwise it is queued (pages).
    """
    original = Submission.objects.filter(pk=submission_id).first()
    if original is None:
        raise NotFound(SUBMISSION_NOT_FOUND)
    copy = Submission.objects.create(
        source=SubmissionSource.REPROCESS,
        facility=original.facility,
        api_key=original.api_key,
        sender=sender if getattr(sender, "pk", None) else None,
        sender_label=sender_label or original.sender_label,
        file_name=original.file_name,
        size=original.size,
        sha256=original.sha256,
        archive_path=original.archive_path,
        reprocess_of=original,
    )
    if run:
        return process_submission(submission_id=copy.pk)
    enqueue_processing(submission=copy)
    return copy


def unfinished() -> list[str]:
    """Ids of submissions left ``received`` or ``processing``, oldest first."""
    pending = Submission.objects.filter(status__in=[SubmissionStatus.RECEIVED, SubmissionStatus.PROCESSING])
    return [str(pk) for pk in pending.order_by("received_at").values_list("pk", flat=True)]


def resume_unfinished(*, force: bool = True, progress: Progress | None = None) -> list[str]:
    """Finish every submission left ``received`` or ``processing`` (after a crash); return their ids.

    Meant for start-up, before the task worker runs (``force`` takes over leases a killed worker left).
    """
    ids = unfinished()
    for submission_id in ids:
        process_submission(submission_id=submission_id, force=force, progress=progress)
    return ids


def resume_if_stalled(*, submission: Submission) -> bool:
    """Queue a submission again when it waits with no live run (its task died); tell whether it was queued."""
    if submission.status not in (SubmissionStatus.RECEIVED, SubmissionStatus.PROCESSING):
        return False
    if submission.heartbeat_at is not None and timezone.now() - submission.heartbeat_at < LEASE:
        return False
    enqueue_processing(submission=submission)
    return True


# --- reports ----------------------------------------------------------------------------------------

REPORT_KEYS = ("file", "ma_lk", "table", "row", "field", "code", "message")


def submission_report(
    submission: Submission, *, rows: Iterable[SubmissionVisit] | None = None
) -> dict[str, Any]:
    """The report of one submission in the shape of ``soskdt ingest --json`` (without "files")."""
    if rows is None:
        rows = (
            SubmissionVisit.objects.filter(submission=submission)
            .exclude(errors=[], warnings=[])
            .only("ma_lk", "errors", "warnings")
            .order_by("index")
        )
    errors: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    for problem in submission.file_errors or []:
        target = warnings if problem.get("severity") == "warning" else errors
        target.append(report_problem(problem, submission.file_name))
    for row in rows:
        errors.extend(report_problem(p, submission.file_name, row.ma_lk) for p in row.errors or [])
        warnings.extend(report_problem(p, submission.file_name, row.ma_lk) for p in row.warnings or [])
    return {
        "id": str(submission.pk),
        "status": str(submission.status),
        "file": submission.file_name,
        "sha256": submission.sha256,
        "size": submission.size,
        "received_at": submission.received_at.isoformat(),
        "facility_code": submission.envelope_facility_code or None,
        "visits_total": submission.visits_total,
        "visits_accepted": submission.visits_accepted,
        "visits_replaced": submission.visits_replaced,
        "visits_unchanged": submission.visits_unchanged,
        "visits_rejected": submission.visits_rejected,
        "visits_unlinked": submission.visits_unlinked,
        "errors": errors,
        "warnings": warnings,
    }


def report_problem(problem: dict[str, Any], file_name: str, ma_lk: str | None = None) -> dict[str, Any]:
    """One problem in the report shape: file, ma_lk, table, row, field, code, message (+ value if any)."""
    return {
        "file": problem.get("file") or file_name,
        "ma_lk": problem.get("record") or ma_lk or None,
        "table": problem.get("table"),
        "row": problem.get("row"),
        "field": problem.get("field"),
        "code": problem.get("code"),
        "message": problem.get("message"),
        **({"value": str(problem["value"])} if problem.get("value") not in (None, "") else {}),
    }


def archive_dir() -> Path:
    return Path(settings.ARCHIVE_ROOT)
