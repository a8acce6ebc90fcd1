"""The API's two hottest reads of one's own book, on PostgreSQL, in one prepared statement each.

*Visits of one year* and *one visit with all its items* are what the citizen app asks for most. Here
each is one SQL statement, planned once per connection (``sqlbatch.prepared_cursor``): it checks the
book is open and the ``X-Book-Token`` is a live token of this account for this book, reads the content,
and appends the access-log row chained after the book's last one, all in one implicit transaction
(so one round trip, one commit). The statement does only what ``healthbook.reads`` would let succeed;
anything else (another person's book, a locked or closed book, a visit the book does not show, another
database) makes it return nothing and the caller falls back to ``healthbook.reads``, which decides the
exact answer (its error, or the same content). ``test_fast_book_reads.py`` holds the two paths to the
same answers, ETags and log rows. docs/decisions/0005-book-read-path.md says why it exists.

The log row's hash is ``sha256(prev_hash + canonical(row))`` as everywhere (``healthbook.access``):
Python builds the canonical text of the row, the statement takes ``prev_hash`` from the book's last row
and hashes. Two reads of one book racing for the same ``prev_hash`` meet the unique (owner, prev_hash):
the loser's statement fails as a whole and is run again.

Unlike ``healthbook.reads``, the row commits before Python encodes the answer: a failure while encoding
(a bug, since the rows are already read) leaves a row recording a read whose answer was not sent. The
log errs on the side of recording.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from contextlib import nullcontext
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from soskdt.core import sqlbatch
from soskdt.core.sqlbatch import Loader
from soskdt.healthbook import book as book_services
from soskdt.healthbook import reads, terms
from soskdt.healthbook.access import AccessContext, canonical, chain_retry, new_row
from soskdt.healthbook.models import GENESIS_HASH, ActorKind, Book, ClinicalNote
from soskdt.healthbook.reads import (
    Page,
    Read,
    VisitDetail,
    YearVisits,
    _drug,
    _page_bounds,
    _summary,
    _summary_of,
    _visit_etag,
    diagnoses_of,
    etag_matches,
)
from soskdt.healthbook.selectors import BookAccess
from soskdt.identity.models import AccountKind, User
from soskdt.registry.models import Citizen

# The book is open to this account with this token, now: the same rules as ``book.require_open`` and
# ``book.book_token_valid``. One row (the owner's) or none.
_ACCESS = """
acc AS (
    SELECT "b"."citizen_id" AS "cid", "b"."last_synced_at", "c"."sex", "c"."birth_year", "c"."birth_month",
           "c"."birth_day"
    FROM "healthbook_book" "b"
    INNER JOIN "registry_citizen" "c" ON "c"."id" = "b"."citizen_id"
    INNER JOIN "healthbook_booktoken" "bt" ON "bt"."book_id" = "b"."id"
    WHERE "b"."citizen_id" = %(cid)s
      AND "b"."activated_at" IS NOT NULL AND "b"."terms_accepted_at" IS NOT NULL
      AND "b"."terms_version" = %(terms)s
      AND "bt"."prefix" = %(prefix)s AND "bt"."user_id" = %(uid)s AND "bt"."digest" = ANY(%(digests)s)
      AND "bt"."revoked_at" IS NULL AND "bt"."expires_at" > %(now)s
)"""

# The access-log row, after the book's last one; ``{guard}`` is the condition the read needs.
_INSERT = """
ins AS (
    INSERT INTO "healthbook_accesslog" ("owner_id", "actor_id", "actor_kind", "facility_id", "action",
        "target", "outcome", "at", "ip_address", "user_agent", "channel", "prev_hash", "hash")
    SELECT "acc"."cid", %(actor)s, %(actor_kind)s, NULL, %(action)s, %(target)s, %(outcome)s, %(at)s,
        CAST(%(ip)s AS inet), %(ua)s, %(channel)s, "h"."prev",
        encode(sha256(convert_to("h"."prev" || %(canonical)s, 'UTF8')), 'hex')
    FROM "acc", LATERAL (
        SELECT COALESCE((SELECT "l"."hash" FROM "healthbook_accesslog" "l" WHERE "l"."owner_id" = "acc"."cid"
                         ORDER BY "l"."id" DESC LIMIT 1), %(genesis)s) AS "prev"
    ) "h"
    WHERE {guard}
    RETURNING "id"
)"""

_VISIBLE = '"v"."citizen_id" = "acc"."cid" AND "v"."linked_at" <= "acc"."last_synced_at"'

_YEAR_SQL = (
    "WITH"
    + _ACCESS
    + ","
    + _INSERT.format(guard="TRUE")
    + f"""
SELECT "ins"."id", "acc"."last_synced_at", "acc"."sex", "acc"."birth_year", "acc"."birth_month",
    "acc"."birth_day",
    (SELECT COUNT(*) FROM "healthbook_visit" "v" WHERE {_VISIBLE} AND "v"."visit_year" = %(year)s),
    "p".*
FROM "ins" CROSS JOIN "acc"
LEFT JOIN LATERAL (
    SELECT {reads._SUMMARY_COLUMNS} FROM {reads._VISITS}
    WHERE {_VISIBLE} AND "v"."visit_year" = %(year)s
    {reads._NEWEST_FIRST} LIMIT %(limit)s OFFSET %(offset)s
) "p" ON TRUE
ORDER BY "p"."admitted_at" DESC, "p"."id" DESC"""
)

# The drug columns ``reads`` reads, but the ids (the JSON rows are already those of one visit).
_DRUG_COLUMNS = tuple(name for name in reads._DRUG.attnames if name not in ("id", "visit_id"))
_DRUG_TIMES = ("ordered_at", "administered_at")
_NOTE_COLUMNS = ("id", "line_no", "progress", "disease_stage", "consultation", "surgery", "noted_at")


def _json_rows(table: str, alias: str, columns: Sequence[str]) -> str:
    listed = ", ".join(f'"{alias}"."{c}"' for c in columns)
    return (
        f'(SELECT json_agg(json_build_array({listed}) ORDER BY "{alias}"."line_no", "{alias}"."id")::text '
        f'FROM "{table}" "{alias}" WHERE "{alias}"."visit_id" = "v"."id")'
    )


_PAPER_JOINS = " ".join(
    f'LEFT JOIN "{loader.model._meta.db_table}" "{alias}" ON "{alias}"."visit_id" = "v"."id"'
    for _name, loader, alias in reads._PAPERS
)
_VISIT_SQL = (
    "WITH"
    + _ACCESS
    + ","
    + _INSERT.format(
        guard=f'EXISTS (SELECT 1 FROM "healthbook_visit" "v" WHERE "v"."id" = %(visit)s AND {_VISIBLE})'
    )
    + f"""
SELECT "ins"."id", "acc"."last_synced_at", "acc"."sex", "acc"."birth_year", "acc"."birth_month",
    "acc"."birth_day", {reads._VISIT.columns("v")}, "f"."name",
    {", ".join(loader.columns(alias) for _name, loader, alias in reads._PAPERS)},
    {_json_rows("healthbook_drugline", "d", _DRUG_COLUMNS)},
    {_json_rows("healthbook_clinicalnote", "n", _NOTE_COLUMNS)},
    (SELECT json_agg(json_build_array("fn"."code", "fn"."name"))::text FROM "registry_facility" "fn"
     WHERE "fn"."code" = ANY({reads.NAMED_FACILITY_CODES_PG}))
FROM "ins" CROSS JOIN "acc"
INNER JOIN "healthbook_visit" "v" ON "v"."id" = %(visit)s AND {_VISIBLE}
INNER JOIN "registry_facility" "f" ON "f"."id" = "v"."facility_id"
{_PAPER_JOINS}"""
)
_HEAD = 6  # columns before the content: log row id, last sync, sex, birth year/month/day


def _eligible(viewer: Any, who_given: bool, book_token: str | None) -> bool:
    """Own book, citizen at level 2, on PostgreSQL: else ``reads`` answers (and explains any refusal)."""
    return (
        connection.vendor == "postgresql"
        and not who_given
        and isinstance(viewer, User)
        and viewer.is_active
        and viewer.kind == AccountKind.CITIZEN
        and viewer.citizen_id is not None
        and viewer.assurance_level == 2
        and book_services._token_prefix(book_token) is not None
    )


def _params(viewer: User, book_token: str, row: Any) -> dict[str, Any]:
    text = book_token.strip()
    keys = (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", []))
    return {
        "cid": viewer.citizen_id,
        "uid": viewer.pk,
        "terms": terms.CURRENT_VERSION,
        "prefix": book_services._token_prefix(text),
        "digests": [book_services._token_digest(text, key) for key in keys],
        "now": row.at,
        "actor": row.actor_id,
        "actor_kind": row.actor_kind,
        "action": row.action,
        "target": row.target,
        "outcome": row.outcome,
        "at": row.at,
        "ip": row.ip_address,
        "ua": row.user_agent,
        "channel": row.channel,
        "canonical": canonical(row),
        "genesis": GENESIS_HASH,
    }


def _run(
    sql: str,
    viewer: User,
    book_token: str,
    context: AccessContext,
    action: str,
    target: str,
    extra: dict[str, Any],
) -> list[tuple[Any, ...]]:
    """Run a read's statement; retry when another read of the book took the same place in the chain."""
    attempt = 0
    while True:
        attempt += 1
        row = new_row(
            owner_id=int(viewer.citizen_id or 0),
            actor_id=viewer.pk,
            actor_kind=ActorKind.CITIZEN,
            action=action,
            target=target,
            context=context,
            prev_hash=None,
        )
        params = _params(viewer, book_token, row) | extra
        try:
            # Inside a caller's transaction a savepoint lets a refused row be retried.
            with (
                transaction.atomic() if connection.in_atomic_block else nullcontext(),
                sqlbatch.prepared_cursor() as cursor,
            ):
                cursor.execute(sql, params)
                return cursor.fetchall()
        except IntegrityError as error:
            if not chain_retry(error, attempt):
                raise


def _access(viewer: User, head: Sequence[Any]) -> BookAccess:
    _log_id, last_synced_at, sex, birth_year, birth_month, birth_day = head[:_HEAD]
    citizen = Citizen(
        id=viewer.citizen_id, sex=sex, birth_year=birth_year, birth_month=birth_month, birth_day=birth_day
    )
    book = Book(citizen=citizen, last_synced_at=last_synced_at)
    return BookAccess(book=book, citizen=citizen, viewer=viewer, actor_kind=ActorKind.CITIZEN)


def visits_for_year(
    *,
    viewer: Any,
    who_given: bool,
    year: int,
    page: int,
    page_size: int,
    book_token: str | None,
    context: AccessContext,
    if_none_match: str | None,
) -> Read[YearVisits] | None:
    """``reads.visits_for_year`` of one's own book in one statement, or None: ask ``reads``."""
    if not _eligible(viewer, who_given, book_token):
        return None
    assert book_token is not None
    page, page_size = _page_bounds(page, page_size)
    rows = _run(
        _YEAR_SQL,
        viewer,
        book_token,
        context,
        "visits.year",
        f"year:{year}",
        {"year": year, "limit": page_size, "offset": (page - 1) * page_size},
    )
    if not rows:
        return None
    access = _access(viewer, rows[0])
    total = rows[0][_HEAD]
    items = [_summary(row[_HEAD + 1 :]) for row in rows if row[_HEAD + 1] is not None]
    etag = reads.year_etag(access, year, page, page_size, total, items)
    if etag_matches(if_none_match, etag):
        return Read(etag, None)
    return Read(etag, YearVisits(access, year, Page(items, page, page_size, total)))


def _time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _decode(text: str | None, columns: Sequence[str], times: Sequence[str]) -> list[dict[str, Any]]:
    lines = []
    for values in json.loads(text or "[]", parse_float=Decimal):
        line = dict(zip(columns, values, strict=True))
        for name in times:
            line[name] = _time(line[name])
        lines.append(line)
    return lines


def _loaded(loader: Loader[Any], row: Sequence[Any], offset: int) -> tuple[Any, int]:
    return loader.load(row, offset), offset + len(loader)


def visit_detail(
    *,
    viewer: Any,
    who_given: bool,
    visit_id: int,
    book_token: str | None,
    context: AccessContext,
    if_none_match: str | None,
) -> Read[VisitDetail] | None:
    """``reads.visit_detail`` of one's own book in one statement, or None: ask ``reads``."""
    if not _eligible(viewer, who_given, book_token):
        return None
    assert book_token is not None
    rows = _run(
        _VISIT_SQL, viewer, book_token, context, "visit.detail", f"visit:{visit_id}", {"visit": visit_id}
    )
    if not rows:
        return None
    row = rows[0]
    access = _access(viewer, row)
    visit, offset = _loaded(reads._VISIT, row, _HEAD)
    etag = _visit_etag("visit", access, visit.pk, visit.version)
    if etag_matches(if_none_match, etag):
        return Read(etag, None)
    facility_name = row[offset] or ""
    offset += 1
    documents: dict[str, Any] = {}
    for name, loader, _alias in reads._PAPERS:
        documents[name], offset = _loaded(loader, row, offset)
    drugs_json, notes_json, names_json = row[offset : offset + 3]
    drugs = _decode(drugs_json, _DRUG_COLUMNS, _DRUG_TIMES)
    for line in drugs:
        # JSON writes a whole number without decimals; the reads give a Decimal.
        if line["quantity"] is not None:
            line["quantity"] = Decimal(str(line["quantity"]))
    names = dict(json.loads(names_json or "[]"))
    names[visit.facility_code] = facility_name
    notes = [
        ClinicalNote(visit_id=visit.pk, **note) for note in _decode(notes_json, _NOTE_COLUMNS, ("noted_at",))
    ]
    detail = VisitDetail(
        access=access,
        visit=visit,
        summary=_summary_of(visit, facility_name),
        diagnoses=diagnoses_of(visit),
        drugs=[_drug(line) for line in drugs],
        notes=notes,
        discharge_paper=documents["discharge_paper"],
        record_summary=documents["record_summary"],
        referral=documents["referral"],
        follow_up=documents["follow_up"],
        facility_names=names,
    )
    return Read(etag, detail)
