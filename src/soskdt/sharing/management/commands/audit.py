"""``soskdt audit verify``: check the hash chain of every book's access log; report the first broken link.

    soskdt audit verify                 # every book
    soskdt audit verify --owner 079085001234

Streams all rows once, ordered by (owner, id). For each book whose chain breaks it prints the owner, the
id of the first bad row and what was expected against what was found (the previous row's hash, or the
row's own hash). Exit status 0 when every chain holds, 1 when one does not.

What it catches: an edited row (its hash no longer matches), a deleted row (the next row's ``prev_hash``
no longer matches), rows swapped or re-ordered (both). What it cannot catch alone: the removal of the
newest rows of a book (the shorter chain is still valid): compare against published chain heads
(``--heads``, docs/sharing.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from soskdt.healthbook.access import chain_hash
from soskdt.healthbook.models import GENESIS_HASH, AccessLog
from soskdt.registry.models import Citizen


@dataclass(frozen=True, slots=True)
class BrokenLink:
    owner_id: int
    row_id: int
    field: str  # "prev_hash" or "hash"
    expected: str
    found: str


@dataclass
class AuditResult:
    books: int = 0
    rows: int = 0
    broken: list[BrokenLink] | None = None
    heads: dict[int, str] | None = None

    @property
    def ok(self) -> bool:
        return not self.broken


def verify_all(*, owner_id: int | None = None, chunk_size: int = 2000) -> AuditResult:
    """Walk every chain (or one owner's) in one ordered stream; return the first broken link of each."""
    rows = AccessLog.objects.order_by("owner_id", "id")
    if owner_id is not None:
        rows = rows.filter(owner_id=owner_id)
    result = AuditResult(broken=[], heads={})
    assert result.broken is not None and result.heads is not None
    current: int | None = None
    expected_prev = GENESIS_HASH
    broken_here = False
    for row in rows.iterator(chunk_size=chunk_size):
        result.rows += 1
        if row.owner_id != current:
            current, expected_prev, broken_here = row.owner_id, GENESIS_HASH, False
            result.books += 1
        if broken_here:
            continue
        if row.prev_hash != expected_prev:
            result.broken.append(BrokenLink(row.owner_id, row.pk, "prev_hash", expected_prev, row.prev_hash))
            broken_here = True
            continue
        computed = chain_hash(row.prev_hash, row)
        if row.hash != computed:
            result.broken.append(BrokenLink(row.owner_id, row.pk, "hash", computed, row.hash))
            broken_here = True
            continue
        expected_prev = row.hash
        result.heads[row.owner_id] = row.hash
    return result


class Command(BaseCommand):
    help = (
        "Kiểm tra chuỗi băm nhật ký truy cập của mọi sổ; báo mắt xích hỏng đầu tiên. "
        "/ Verify the access-log hash chains (audit verify)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="Kiểm tra chuỗi băm / verify the chains")
        verify.add_argument("--owner", help="Số định danh của một chủ sổ / one book owner's personal ID")
        verify.add_argument(
            "--heads",
            help="Tệp JSON {personal_id: hash} các đầu chuỗi đã công bố / published chain heads to compare",
        )
        verify.add_argument("--write-heads", help="Ghi đầu chuỗi hiện tại ra tệp JSON / write current heads")

    def handle(self, *args: Any, **options: Any) -> None:
        owner_id = None
        if options.get("owner"):
            owner_id = (
                Citizen.objects.filter(personal_id=options["owner"]).values_list("pk", flat=True).first()
            )
            if owner_id is None:
                raise CommandError(f"không có công dân {options['owner']} / unknown owner")
        result = verify_all(owner_id=owner_id)
        assert result.broken is not None and result.heads is not None
        ids = {b.owner_id for b in result.broken} | set(result.heads)
        personal_ids = dict(Citizen.objects.filter(pk__in=ids).values_list("pk", "personal_id"))
        for link in result.broken:
            self.stdout.write(
                f"HỎNG / BROKEN owner={personal_ids.get(link.owner_id, link.owner_id)} row={link.row_id} "
                f"{link.field}: expected={link.expected} found={link.found}"
            )
        missing = 0
        if options.get("heads"):
            with open(options["heads"], encoding="utf-8") as handle:
                published = json.load(handle)
            current = {personal_ids.get(k, str(k)): v for k, v in result.heads.items()}
            for pid, head in published.items():
                if head != current.get(pid) and not self._head_in_chain(pid, head):
                    missing += 1
                    self.stdout.write(
                        f"HỎNG / BROKEN owner={pid} head {head} no longer in the chain (rows removed)"
                    )
        if options.get("write_heads"):
            with open(options["write_heads"], "w", encoding="utf-8") as handle:
                json.dump({personal_ids.get(k, str(k)): v for k, v in result.heads.items()}, handle, indent=1)
        summary = f"{result.books} sổ / books, {result.rows} dòng / rows, {len(result.broken) + missing} hỏng / broken"
        if result.ok and not missing:
            self.stdout.write(self.style.SUCCESS(f"OK: {summary}"))
            return
        self.stderr.write(summary)
        raise SystemExit(1)

    @staticmethod
    def _head_in_chain(personal_id: str, head: str) -> bool:
        return AccessLog.objects.filter(owner__personal_id=personal_id, hash=head).exists()
