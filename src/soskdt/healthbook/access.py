"""The access log of the books: one append-only row per transaction on a book, reads included.

Every read of a book (page, API, PDF) and every change to it writes one ``AccessLog`` row through
``record_access``, in the transaction that reads or changes the book, so that no read escapes the log
and a failed read leaves no row. The rows of one book owner form a hash chain::

    hash = sha256(prev_hash + canonical(row))      prev_hash of the first row = "0" * 64

so that a removed, inserted or edited row shows (``verify_chain``). Writers are serialised per book by
the lock on its ``Book`` row; the unique (owner, prev_hash) constraint refuses a fork should that ever
be bypassed. The sharing issue builds "Ai đã xem sổ của tôi" and ``soskdt audit verify`` on this module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from soskdt.healthbook.models import GENESIS_HASH, AccessChannel, AccessLog, AccessOutcome, Book

USER_AGENT_MAX = 200


@dataclass(frozen=True, slots=True)
class AccessContext:
    """Where a request comes from: the channel (page or API), the address and the client."""

    channel: str
    ip_address: str | None = None
    user_agent: str = ""
    facility_id: int | None = None


def normalise_ip(value: str | None) -> str | None:
    """The canonical text of an address (IPv4-mapped IPv6 as IPv4), or None when it is not one."""
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def context_from(request: HttpRequest, channel: str) -> AccessContext:
    """The access context of a page or API request (REMOTE_ADDR: the proxy in front sets it)."""
    return AccessContext(
        channel=channel,
        ip_address=normalise_ip(request.META.get("REMOTE_ADDR")),
        user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX],
    )


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical(row: AccessLog) -> str:
    """The row's fields in a fixed order as compact JSON (what the chain hashes)."""
    return _compact([row.owner_id, row.actor_id, *_tail_fields(row)])


@dataclass(frozen=True, slots=True)
class LogFields:
    """A row's fields but its owner, actor and chain: what a statement that knows those inserts."""

    actor_kind: str
    facility_id: int | None
    action: str
    target: str
    outcome: str
    at: dt.datetime
    ip_address: str | None
    user_agent: str
    channel: str

    @classmethod
    def of(
        cls,
        *,
        actor_kind: str,
        action: str,
        context: AccessContext,
        target: str = "",
        outcome: str = AccessOutcome.SUCCESS,
    ) -> LogFields:
        if context.channel not in AccessChannel.values:
            raise ValueError(f"unknown channel {context.channel!r}")
        return cls(
            actor_kind=actor_kind,
            facility_id=context.facility_id,
            action=action,
            target=target[:64],
            outcome=outcome,
            at=timezone.now(),
            ip_address=context.ip_address,
            user_agent=context.user_agent[:USER_AGENT_MAX],
            channel=context.channel,
        )


def canonical_tail(fields: LogFields) -> str:
    """``canonical`` of a row with these fields without its opening ``[owner,actor,``."""
    return _compact(_tail_fields(fields))[1:]


def _tail_fields(row: AccessLog | LogFields) -> list[object]:
    return [
        row.actor_kind,
        row.facility_id,
        row.action,
        row.target,
        row.outcome,
        _utc(row.at),
        row.ip_address,
        row.user_agent,
        row.channel,
    ]


def _compact(values: list[object]) -> str:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev_hash: str, row: AccessLog) -> str:
    return hashlib.sha256((prev_hash + canonical(row)).encode()).hexdigest()


def new_row(
    *,
    owner_id: int,
    actor_id: int | None,
    actor_kind: str,
    action: str,
    context: AccessContext,
    prev_hash: str | None,
    target: str = "",
    outcome: str = AccessOutcome.SUCCESS,
) -> AccessLog:
    """Build (not save) the next row of ``owner_id``'s chain after ``prev_hash`` (None: the first row)."""
    fields = LogFields.of(
        actor_kind=actor_kind, action=action, context=context, target=target, outcome=outcome
    )
    prev = prev_hash or GENESIS_HASH
    row = AccessLog(
        owner_id=owner_id,
        actor_id=actor_id,
        actor_kind=fields.actor_kind,
        facility_id=fields.facility_id,
        action=fields.action,
        target=fields.target,
        outcome=fields.outcome,
        at=fields.at,
        ip_address=fields.ip_address,
        user_agent=fields.user_agent,
        channel=fields.channel,
        prev_hash=prev,
    )
    row.hash = chain_hash(prev, row)
    return row


def chain_head(owner_id: int) -> str | None:
    """The hash of the last row of ``owner_id``'s chain (None when there is none)."""
    return AccessLog.objects.filter(owner_id=owner_id).order_by("-id").values_list("hash", flat=True).first()


#: The chain head as a scalar subquery of an owner column (served by the (owner, -id) index).
CHAIN_HEAD_SQL = (
    '(SELECT "l"."hash" FROM "healthbook_accesslog" "l" WHERE "l"."owner_id" = {owner} '
    'ORDER BY "l"."id" DESC LIMIT 1)'
)


#: Reads of one book racing for the end of its chain try this many times before giving up.
CHAIN_ATTEMPTS = 20


def chain_retry(error: IntegrityError, attempt: int) -> bool:
    """After a refused row: tell whether to try again (and wait a moment, longer each time) or give up.

    Each round of a race has a winner, so a read retried enough times gets through; the random wait
    keeps the racers from meeting again at once (one book, several devices of one family).
    """
    if not is_chain_conflict(error) or attempt >= CHAIN_ATTEMPTS:
        return False
    time.sleep(random.uniform(0, 0.001 * attempt))  # noqa: S311 - jitter, not a secret
    return True


def is_chain_conflict(error: IntegrityError) -> bool:
    """Tell whether ``error`` is the unique (owner, prev_hash) refusing a second row after the same head."""
    text = str(error)
    return "hb_accesslog_chain_uniq" in text or "healthbook_accesslog.prev_hash" in text


def record_access(
    *,
    book: Book,
    actor_id: int | None,
    actor_kind: str,
    action: str,
    context: AccessContext,
    target: str = "",
    outcome: str = AccessOutcome.SUCCESS,
    lock: bool = True,
) -> AccessLog:
    """Append one row to the book's access log, chained to the previous one.

    Runs inside the caller's transaction (it opens one if there is none), so the row commits or rolls
    back with the read or change it records. The book row is locked first to serialise writers of
    one book; pass ``lock=False`` only when the caller already holds that lock in this transaction
    (``selectors.get_book_for(..., for_update=True)``). The reads of ``healthbook.reads`` append their
    rows without the lock, in the statement batch that reads (``new_row`` + ``sqlbatch.insert``): the
    unique (owner, prev_hash) refuses the loser of a race and the read is retried.
    """
    if book.pk is None:
        raise ValueError("a book must be saved before its access is logged")
    with transaction.atomic(savepoint=False):
        if lock:
            Book.objects.select_for_update().filter(pk=book.pk).values_list("pk").first()
        row = new_row(
            owner_id=book.citizen_id,
            actor_id=actor_id,
            actor_kind=actor_kind,
            action=action,
            context=context,
            prev_hash=chain_head(book.citizen_id),
            target=target,
            outcome=outcome,
        )
        row.save(force_insert=True)
    return row


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The result of checking one owner's chain: ``broken_at`` is the id of the first bad row."""

    owner_id: int
    rows: int
    broken_at: int | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_rows(owner_id: int, rows: Iterable[AccessLog]) -> ChainReport:
    """Check rows of one owner, in id order: each links to the previous hash and hashes to itself."""
    expected_prev = GENESIS_HASH
    count = 0
    for row in rows:
        count += 1
        if row.prev_hash != expected_prev or row.hash != chain_hash(row.prev_hash, row):
            return ChainReport(owner_id, count, row.pk)
        expected_prev = row.hash
    return ChainReport(owner_id, count)


def verify_chain(owner_id: int) -> ChainReport:
    """Check the whole access log of one book owner."""
    rows = AccessLog.objects.filter(owner_id=owner_id).order_by("id").iterator(chunk_size=2000)
    return verify_rows(owner_id, rows)
