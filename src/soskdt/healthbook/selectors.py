"""Reads of the health book: who may open which book, and the visits that ingestion and operations need.

``get_book_for(viewer, citizen_id)`` is the one authorisation rule of the book: a citizen opens their own
book and the books of the people they represent; anybody else, a missing person and a staff account get
the same ``NotFound``. The reads that show a book's content (and log them) are in ``healthbook.reads``.

A clinician reads a book only through a ``StaffGrant`` (a share session or an emergency access, made by
``soskdt.sharing``, which this app does not import): ``book_access(clinician, who, grant=...)``. The grant
says whose book, at which facility, as what (``clinician`` or ``emergency``) and within which ``Scope``.
Representatives of people aged 14 to 17 need the person's renewal: ``sharing`` registers the lookup with
``register_proxy_renewals`` (docs/sharing.md, "Proxy").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db.models import Q, QuerySet
from django.utils import timezone

from soskdt.core import sqlbatch
from soskdt.core.errors import NotFound
from soskdt.healthbook import terms
from soskdt.healthbook.access import CHAIN_HEAD_SQL
from soskdt.healthbook.models import ActorKind, Book, BookToken, Visit, VisitVersion
from soskdt.healthbook.records import VisitInput
from soskdt.healthbook.scope import Scope
from soskdt.healthbook.services import stored_visit_inputs
from soskdt.identity.models import AccountKind, User
from soskdt.registry.models import Citizen

# Children under 14 are managed through a parent's or legal representative's account (DOMAIN.md §3);
# from 14 they use their own account. Adults (18 and over) may designate a representative.
CHILD_AGE_LIMIT = 14
ADULT_AGE = 18

#: A book is named by its owner's citizen id (int) or personal ID (12-digit str).
Who = int | str


# --- who may open which book ---------------------------------------------------------------------


class StaffGrant(Protocol):
    """A staff member's right to read one book for a while (a share session, an emergency access)."""

    @property
    def actor_kind(self) -> str: ...  # ActorKind.CLINICIAN or ActorKind.EMERGENCY

    @property
    def citizen_id(self) -> int: ...

    @property
    def facility_id(self) -> int: ...

    @property
    def scope(self) -> Scope: ...

    def allows(self, viewer: Any) -> bool:
        """Tell whether ``viewer`` may read through this grant now (bound to them, live)."""
        ...

    def on_read(self, row: Any) -> None:
        """Called with the access-log row of each successful read, in the read's transaction."""
        ...


@dataclass(frozen=True, slots=True)
class BookAccess:
    """A viewer's right to one book. ``book`` is unsaved (no ``pk``) when the person has none yet."""

    book: Book
    citizen: Citizen
    viewer: User
    actor_kind: str
    scope: Scope = field(default_factory=Scope.full)
    grant: StaffGrant | None = None
    # Read with the access when asked (``book_access(token_prefix=…, with_log_head=True)``):
    token_lookup: tuple[str, BookToken | None] | None = None  # (prefix asked for, the token found)
    log_head: str | None = None  # hash of the last access-log row of this book (None: no row yet)

    @property
    def is_own(self) -> bool:
        return self.actor_kind == ActorKind.CITIZEN

    @property
    def is_staff_read(self) -> bool:
        return self.grant is not None

    @property
    def terms_current(self) -> bool:
        return self.book.terms_accepted_at is not None and self.book.terms_version == terms.CURRENT_VERSION

    @property
    def is_activated(self) -> bool:
        return self.book.pk is not None and self.book.activated_at is not None

    @property
    def is_open(self) -> bool:
        """Activated and consented to the current terms: the passcode may open it."""
        return self.is_activated and self.terms_current


#: ``(representative citizen id, person ids) -> ids of those persons who renewed that representative``.
ProxyRenewals = Callable[[int, Iterable[int]], set[int]]
_proxy_renewals: list[ProxyRenewals] = []


def register_proxy_renewals(lookup: ProxyRenewals) -> None:
    """Let another app say which people aged 14 or over renewed their representative (sharing does)."""
    if lookup not in _proxy_renewals:
        _proxy_renewals.append(lookup)


def renewed_by(representative_id: int, person_ids: Iterable[int]) -> set[int]:
    wanted = list(person_ids)
    found: set[int] = set()
    if not wanted:
        return found
    for lookup in _proxy_renewals:
        found |= lookup(representative_id, wanted)
    return found


def may_be_represented(citizen: Citizen, today: dt.date | None = None, *, renewed: bool = False) -> bool:
    """Tell whether a person's representative may manage their book.

    Under 14: yes. From 14 (year-only births count from 1 January) the person's own account takes over:
    only with the person's renewal (``renewed``), except that an adult (18+) may designate a
    representative in the population register.
    """
    age = citizen.birth_date.age_on(today or timezone.localdate())
    return age < CHILD_AGE_LIMIT or age >= ADULT_AGE or renewed


def needs_renewal(citizen: Citizen, today: dt.date | None = None) -> bool:
    """Tell whether a representative needs the person's renewal to manage this book (aged 14 to 17)."""
    return not may_be_represented(citizen, today)


def viewer_citizen_id(viewer: Any) -> int:
    """The citizen behind an active citizen account; anybody else is NotFound."""
    if (
        not isinstance(viewer, User)
        or not viewer.is_authenticated
        or not viewer.is_active
        or viewer.kind != AccountKind.CITIZEN
        or viewer.citizen_id is None
    ):
        raise NotFound()
    return viewer.citizen_id


def _citizen_filter(who: Who) -> dict[str, Any]:
    if isinstance(who, bool) or not isinstance(who, int | str):
        raise NotFound()
    if isinstance(who, int):
        return {"pk": who}
    return {"personal_id": who.strip()}


def _relation(viewer_citizen: int, citizen: Citizen) -> str:
    if citizen.pk == viewer_citizen:
        return ActorKind.CITIZEN
    if citizen.representative_id == viewer_citizen:
        if may_be_represented(citizen):
            return ActorKind.REPRESENTATIVE
        if citizen.pk in renewed_by(viewer_citizen, [citizen.pk]):
            return ActorKind.REPRESENTATIVE
    raise NotFound()


def _staff_relation(viewer: Any, citizen: Citizen, grant: StaffGrant) -> str:
    if grant.citizen_id != citizen.pk or grant.actor_kind not in (ActorKind.CLINICIAN, ActorKind.EMERGENCY):
        raise NotFound()
    if not grant.allows(viewer):
        raise NotFound()
    return grant.actor_kind


def _require_staff(viewer: Any) -> None:
    if (
        not isinstance(viewer, User)
        or not viewer.is_authenticated
        or not viewer.is_active
        or viewer.kind != AccountKind.STAFF
    ):
        raise NotFound()


_CITIZEN = sqlbatch.Loader(Citizen)
_BOOK = sqlbatch.Loader(Book)
_BOOK_TOKEN = sqlbatch.Loader(BookToken)


def book_access(
    viewer: Any,
    who: Who,
    *,
    for_update: bool = False,
    grant: StaffGrant | None = None,
    token_prefix: str | None = None,
    with_log_head: bool = False,
) -> BookAccess:
    """Return the viewer's access to the book of ``who`` (citizen id or personal ID); else NotFound.

    One query: the person, their book, and on request the book token with ``token_prefix`` (the API's
    passcode gate, ``BookAccess.token_lookup``) and the head of the book's access-log chain
    (``BookAccess.log_head``, for the reads that append to it). With ``for_update`` the book row is
    then locked for the rest of the transaction (one more query), which serialises the book's writers.
    A staff viewer needs a ``grant`` for this very person (and the grant's own check); citizens never
    pass one.
    """
    own = 0
    if grant is None:
        own = viewer_citizen_id(viewer)
    else:
        _require_staff(viewer)
    column, value = next(iter(_citizen_filter(who).items()))
    select = [_CITIZEN.columns("c"), _BOOK.columns("b")]
    joins = ['LEFT JOIN "healthbook_book" "b" ON "b"."citizen_id" = "c"."id"']
    params: list[Any] = []
    if token_prefix is not None:
        select.append(_BOOK_TOKEN.columns("t"))
        joins.append('LEFT JOIN "healthbook_booktoken" "t" ON "t"."book_id" = "b"."id" AND "t"."prefix" = %s')
        params.append(token_prefix)
    if with_log_head:
        select.append(CHAIN_HEAD_SQL.format(owner='"c"."id"'))
    where = '"c"."id" = %s' if column == "pk" else '"c"."personal_id" = %s'
    sql = f'SELECT {", ".join(select)} FROM "registry_citizen" "c" {" ".join(joins)} WHERE {where}'
    with sqlbatch.prepared_cursor() as cursor:
        cursor.execute(sql, [*params, value])
        row = cursor.fetchone()
    if row is None:
        raise NotFound()
    citizen = _CITIZEN.load(row)
    assert citizen is not None
    offset = len(_CITIZEN)
    book = _BOOK.load(row, offset)
    offset += len(_BOOK)
    if book is None:
        book = Book(citizen=citizen)
    else:
        book.citizen = citizen
        if for_update:
            Book.objects.select_for_update().filter(pk=book.pk).values_list("pk").first()
    extra: dict[str, Any] = {}
    if token_prefix is not None:
        extra["token_lookup"] = (token_prefix, _BOOK_TOKEN.load(row, offset))
        offset += len(_BOOK_TOKEN)
    if with_log_head:
        extra["log_head"] = row[offset]
    if grant is not None:
        kind = _staff_relation(viewer, citizen, grant)
        return BookAccess(
            book=book,
            citizen=citizen,
            viewer=viewer,
            actor_kind=kind,
            scope=grant.scope,
            grant=grant,
            **extra,
        )
    return BookAccess(book=book, citizen=citizen, viewer=viewer, actor_kind=_relation(own, citizen), **extra)


def get_book_for(viewer: Any, citizen_id: int, *, for_update: bool = False) -> BookAccess:
    """The viewer's access to the book of citizen ``citizen_id``; missing and forbidden are both NotFound."""
    return book_access(viewer, int(citizen_id), for_update=for_update)


def get_book_by_personal_id(viewer: Any, personal_id: str, *, for_update: bool = False) -> BookAccess:
    """Like ``get_book_for``, naming the person by their 12-digit personal ID."""
    return book_access(viewer, str(personal_id), for_update=for_update)


def own_book(viewer: Any) -> Book | None:
    """The viewer's own book row (the one holding their passcode), or None."""
    return Book.objects.filter(citizen_id=viewer_citizen_id(viewer)).first()


@dataclass(frozen=True, slots=True)
class ManagedPerson:
    """A person whose book the viewer manages (*Người được quản lý*)."""

    citizen: Citizen
    relation: str
    age: int
    book_activated: bool

    @property
    def personal_id(self) -> str:
        return self.citizen.personal_id

    @property
    def full_name(self) -> str:
        return self.citizen.full_name


def managed_people(viewer: Any) -> list[ManagedPerson]:
    """The people whose book the viewer may open as their representative, youngest first (one query)."""
    own = viewer_citizen_id(viewer)
    today = timezone.localdate()
    people = (
        Citizen.objects.filter(representative_id=own)
        .select_related("book")
        .order_by("-birth_year", "-birth_month", "-birth_day", "full_name")
    )
    listed = list(people)
    # People aged 14 to 17 are managed only with their renewal: one more query, and only when there are some.
    renewed = renewed_by(own, [p.pk for p in listed if needs_renewal(p, today)])
    found = []
    for person in listed:
        if not may_be_represented(person, today, renewed=person.pk in renewed):
            continue
        book = getattr(person, "book", None)
        found.append(
            ManagedPerson(
                citizen=person,
                relation=person.representative_relation,
                age=person.birth_date.age_on(today),
                book_activated=book is not None and book.activated_at is not None,
            )
        )
    return found


# --- visits for ingestion and operations ---------------------------------------------------------


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


def visible_visits(book: Book) -> QuerySet[Visit]:
    """The visits a book shows: linked to its owner and seen by a sync (*Cập nhật dữ liệu*)."""
    if book.last_synced_at is None:
        return Visit.objects.none()
    return Visit.objects.filter(Q(citizen_id=book.citizen_id) & Q(linked_at__lte=book.last_synced_at))
