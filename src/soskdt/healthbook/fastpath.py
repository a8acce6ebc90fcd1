"""The API's two hottest reads of one's own book, on PostgreSQL, in one prepared statement each.

*Visits of one year* and *one visit with all its items* are what the citizen app asks for most. Here
each is one SQL statement, planned once per connection (``sqlbatch.prepared_cursor``): it checks the
bearer token (what ``identity.services.use_api_token`` checks: live, its account active, a level-2
citizen), that the book is open and the ``X-Book-Token`` is a live token of this account for this book,
reads the content, and appends the access-log row chained after the book's last one, all in one
implicit transaction (so one round trip, one commit). The statement does only what ``healthbook.reads``
would let succeed; anything else (a bad bearer token, another person's book, a locked or closed book, a
visit the book does not show, another database) makes it return nothing and the caller checks the
bearer token as usual (``identity.auth.settle``) and falls back to ``healthbook.reads``, which decides
the exact answer (its error, or the same content). ``test_fast_book_reads.py`` holds the two paths to the
same answers, ETags and log rows. docs/decisions/0005-book-read-path.md says why it exists.

The log row's hash is ``sha256(prev_hash + canonical(row))`` as everywhere (``healthbook.access``):
Python builds the canonical text of the row but its owner and actor (``canonical_tail``); the statement
puts those two in front, takes ``prev_hash`` from the book's last row and hashes. Two reads of one book
racing for the same ``prev_hash`` meet the unique (owner, prev_hash): the loser's statement fails as a
whole and is run again.

The token digests are compared in SQL, not in constant time: they are keyed hashes of what the caller
sent, so how long a comparison takes tells nothing that helps forge a token.

Unlike ``healthbook.reads``, the row commits before Python encodes the answer: a failure while encoding
(a bug, since the rows are already read) leaves a row recording a read whose answer was not sent. The
log errs on the side of recording.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction

from soskdt.core import sqlbatch
from soskdt.core.sqlbatch import Loader
from soskdt.healthbook import book as book_services
from soskdt.healthbook import reads, terms
from soskdt.healthbook.access import AccessContext, LogFields, canonical_tail, chain_retry
from soskdt.healthbook.models import GENESIS_HASH, ActorKind, Book, ClinicalNote
from soskdt.healthbook.reads import (
    Page,
    Read,
    VisitDetail,
    VisitSummary,
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
from soskdt.identity.services import token_digests, token_prefix, token_used
from soskdt.registry.models import Citizen

# The bearer token is live, its account an active level-2 citizen's, whose book is open to this account
# with this book token, now: the rules of ``use_api_token``, ``book.require_open`` and
# ``book.book_token_valid``. One row or none.
_ACCESS = """
acc AS (
    SELECT "b"."citizen_id" AS "cid", "u"."id" AS "uid", "t"."id" AS "tid", "t"."last_used_at",
           "u"."app_version", "b"."last_synced_at", "c"."sex", "c"."birth_year", "c"."birth_month",
           "c"."birth_day"
    FROM "identity_apitoken" "t"
    INNER JOIN "identity_user" "u" ON "u"."id" = "t"."user_id"
    INNER JOIN "healthbook_book" "b" ON "b"."citizen_id" = "u"."citizen_id"
    INNER JOIN "registry_citizen" "c" ON "c"."id" = "b"."citizen_id"
    INNER JOIN "healthbook_booktoken" "bt" ON "bt"."book_id" = "b"."id" AND "bt"."user_id" = "u"."id"
    WHERE "t"."prefix" = %(bearer_prefix)s AND "t"."digest" = ANY(%(bearer_digests)s)
      AND "t"."revoked_at" IS NULL AND "t"."expires_at" > %(now)s
      AND "u"."is_active" AND "u"."kind" = %(citizen)s AND "u"."assurance_level" = 2
      AND "b"."activated_at" IS NOT NULL AND "b"."terms_accepted_at" IS NOT NULL
      AND "b"."terms_version" = %(terms)s
      AND "bt"."prefix" = %(prefix)s AND "bt"."digest" = ANY(%(digests)s)
      AND "bt"."revoked_at" IS NULL AND "bt"."expires_at" > %(now)s
)"""

# The access-log row, after the book's last one; ``{guard}`` is the condition the read needs.
_INSERT = """
ins AS (
    INSERT INTO "healthbook_accesslog" ("owner_id", "actor_id", "actor_kind", "facility_id", "action",
        "target", "outcome", "at", "ip_address", "user_agent", "channel", "prev_hash", "hash")
    SELECT "acc"."cid", "acc"."uid", %(actor_kind)s, NULL, %(action)s, %(target)s, %(outcome)s, %(at)s,
        CAST(%(ip)s AS inet), %(ua)s, %(channel)s, "h"."prev",
        encode(sha256(convert_to(
            "h"."prev" || '[' || "acc"."cid"::text || ',' || "acc"."uid"::text || ',' || %(tail)s, 'UTF8'
        )), 'hex')
    FROM "acc", LATERAL (
        SELECT COALESCE((SELECT "l"."hash" FROM "healthbook_accesslog" "l" WHERE "l"."owner_id" = "acc"."cid"
                         ORDER BY "l"."id" DESC LIMIT 1), %(genesis)s) AS "prev"
        OFFSET 0  -- read the head once, not once per use of "prev"
    ) "h"
    WHERE {guard}
    RETURNING "id"
)"""

_VISIBLE = '"v"."citizen_id" = "acc"."cid" AND "v"."linked_at" <= "acc"."last_synced_at"'
# What every statement answers first (``_Head``), then its content.
_HEAD_NAMES = (
    "cid",
    "uid",
    "tid",
    "last_used_at",
    "app_version",
    "last_synced_at",
    "sex",
    "birth_year",
    "birth_month",
    "birth_day",
)
_HEAD_COLUMNS = ", ".join(f'"acc"."{name}"' for name in _HEAD_NAMES)
_HEAD = len(_HEAD_NAMES)

_YEAR_SQL = sqlbatch.Numbered(
    "WITH"
    + _ACCESS
    + ","
    + _INSERT.format(guard="TRUE")
    + f""",
n AS (SELECT COUNT(*) AS "total" FROM "healthbook_visit" "v", "acc" WHERE {_VISIBLE} AND "v"."visit_year" = %(year)s)
SELECT {_HEAD_COLUMNS}, "n"."total", "p".*
FROM "ins" CROSS JOIN "acc" CROSS JOIN "n"
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
_VISIT_SQL = sqlbatch.Numbered(
    "WITH"
    + _ACCESS
    + ","
    + _INSERT.format(
        guard=f'EXISTS (SELECT 1 FROM "healthbook_visit" "v" WHERE "v"."id" = %(visit)s AND {_VISIBLE})'
    )
    + f"""
SELECT {_HEAD_COLUMNS}, {reads._VISIT.columns("v")}, "f"."name",
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


@dataclass(frozen=True, slots=True)
class _Head:
    """Who read, as the statement found them (its first ``_HEAD`` columns)."""

    citizen_id: int
    user_id: int
    token_id: int
    token_last_used_at: dt.datetime | None
    app_version: str
    last_synced_at: dt.datetime | None
    sex: str
    birth_year: int
    birth_month: int | None
    birth_day: int | None


def _run(
    statement: sqlbatch.Numbered,
    *,
    bearer: str,
    book_token: str | None,
    app_version: str | None,
    context: AccessContext,
    action: str,
    target: str,
    extra: dict[str, Any],
) -> tuple[_Head, list[tuple[Any, ...]]] | None:
    """Run a read's statement (None: it did not answer); retry when another read of the book took the
    same place in the chain. Then write what a checked bearer token writes (``token_used``)."""
    if connection.vendor != "postgresql":
        return None
    bearer_prefix, prefix = token_prefix(bearer), token_prefix(book_token)
    if bearer_prefix is None or prefix is None:
        return None
    assert book_token is not None
    params: dict[str, Any] = {
        "bearer_prefix": bearer_prefix,
        "bearer_digests": token_digests(bearer),
        "citizen": AccountKind.CITIZEN,
        "terms": terms.CURRENT_VERSION,
        "prefix": prefix,
        "digests": book_services.book_token_digests(book_token),
        "genesis": GENESIS_HASH,
        **extra,
    }
    attempt = 0
    while True:
        attempt += 1
        fields = LogFields.of(actor_kind=ActorKind.CITIZEN, action=action, target=target, context=context)
        params |= {
            "now": fields.at,
            "actor_kind": fields.actor_kind,
            "action": fields.action,
            "target": fields.target,
            "outcome": fields.outcome,
            "at": fields.at,
            "ip": fields.ip_address,
            "ua": fields.user_agent,
            "channel": fields.channel,
            "tail": canonical_tail(fields),
        }
        try:
            # Inside a caller's transaction a savepoint lets a refused row be retried.
            with (
                transaction.atomic() if connection.in_atomic_block else nullcontext(),
                sqlbatch.prepared_cursor(numbered=True) as cursor,
            ):
                cursor.execute(statement.text, statement.values(params))
                rows = cursor.fetchall()
            break
        except IntegrityError as error:
            if not chain_retry(error, attempt):
                raise
    if not rows:
        return None
    head = _Head(*rows[0][:_HEAD])
    token_used(
        token_id=head.token_id,
        last_used_at=head.token_last_used_at,
        user_id=head.user_id,
        app_version=head.app_version,
        reported=app_version,
    )
    return head, rows


def _access(head: _Head) -> BookAccess:
    citizen = Citizen(
        id=head.citizen_id,
        sex=head.sex,
        birth_year=head.birth_year,
        birth_month=head.birth_month,
        birth_day=head.birth_day,
    )
    viewer = User(id=head.user_id, kind=AccountKind.CITIZEN, citizen_id=head.citizen_id, assurance_level=2)
    book = Book(citizen=citizen, last_synced_at=head.last_synced_at)
    return BookAccess(book=book, citizen=citizen, viewer=viewer, actor_kind=ActorKind.CITIZEN)


def visits_for_year(
    *,
    bearer: str,
    book_token: str | None,
    app_version: str | None,
    year: int,
    page: int,
    page_size: int,
    context: AccessContext,
    if_none_match: str | None,
) -> Read[Page[VisitSummary]] | None:
    """A page of ``reads.visits_for_year`` of the bearer's own book in one statement, or None: ask
    ``reads`` (after checking the bearer token as usual)."""
    page, page_size = _page_bounds(page, page_size)
    found = _run(
        _YEAR_SQL,
        bearer=bearer,
        book_token=book_token,
        app_version=app_version,
        context=context,
        action="visits.year",
        target=f"year:{year}",
        extra={"year": year, "limit": page_size, "offset": (page - 1) * page_size},
    )
    if found is None:
        return None
    head, rows = found
    total = rows[0][_HEAD]
    items = [_summary(row[_HEAD + 1 :]) for row in rows if row[_HEAD + 1] is not None]
    etag = reads.year_etag(head.citizen_id, head.last_synced_at, year, page, page_size, total, items)
    if etag_matches(if_none_match, etag):
        return Read(etag, None)
    return Read(etag, Page(items, page, page_size, total))


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
    bearer: str,
    book_token: str | None,
    app_version: str | None,
    visit_id: int,
    context: AccessContext,
    if_none_match: str | None,
) -> Read[VisitDetail] | None:
    """``reads.visit_detail`` of the bearer's own book in one statement, or None: ask ``reads`` (after
    checking the bearer token as usual)."""
    found = _run(
        _VISIT_SQL,
        bearer=bearer,
        book_token=book_token,
        app_version=app_version,
        context=context,
        action="visit.detail",
        target=f"visit:{visit_id}",
        extra={"visit": visit_id},
    )
    if found is None:
        return None
    head, (row, *_more) = found
    access = _access(head)
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
