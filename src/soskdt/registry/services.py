"""Writes to the registers: the CSV import of citizens, insurance cards, facilities and org units.

An import reads the file once to check it (encoding, CSV structure, header), then streams it in
batches. Each batch is one transaction, so memory holds one batch plus the keys seen so far and a
crash never leaves half a row. With ``strict`` the whole file is one transaction, rolled back if any
row is bad. Rows are checked in file order: "earlier in the file" means an earlier line.
The format, every column and every error code: docs/registry-import.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.db import DatabaseError, connection, models, reset_queries, transaction
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext

from soskdt.core.dates import PartialDate
from soskdt.core.identifiers import (
    parse_card_code,
    parse_facility_code,
    parse_personal_id,
    parse_social_insurance_number,
)
from soskdt.registry.csvio import (
    ORG_UNIT_CODE_RE,
    CsvTable,
    FileRejected,
    ProblemLog,
    RowCheck,
    birth_sex_for_id,
    clean,
    open_table,
    problem,
)
from soskdt.registry.models import (
    CardIssuer,
    Citizen,
    Facility,
    FacilityLevel,
    InsuranceCard,
    OrgUnit,
    OrgUnitKind,
)
from soskdt.registry.signals import citizens_imported

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
DEFAULT_START = dt.date(2000, 1, 1)  # the models' default start of validity
_TIMESTAMPS = ("created_at", "updated_at")


@dataclass
class ImportResult:
    """What an import did: row counts, and every error and warning with its line and column."""

    file: str
    kind: str
    strict: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    file_rejected: bool = False
    errors: ProblemLog = field(default_factory=ProblemLog)
    warnings: ProblemLog = field(default_factory=ProblemLog)

    @property
    def exit_status(self) -> int:
        """2: the file could not be imported; 1: some rows were rejected; 0: every row is in."""
        if self.file_rejected:
            return 2
        return 1 if self.rejected else 0

    @property
    def rolled_back(self) -> bool:
        """Tell whether a strict import found a problem and so loaded nothing."""
        return self.strict and (self.file_rejected or self.rejected > 0)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


@dataclass(slots=True)
class Row:
    """One accepted CSV row: its key, the model fields to write, and one reference to resolve later."""

    line: int
    key: Any
    fields: dict[str, Any]
    reference: str = ""  # representative's personal ID, facility's org unit code, unit's parent code


def _choices(choices: type[models.TextChoices]) -> dict[str, str]:
    """Map each code and each (Vietnamese) label, lower-cased, to its code."""
    mapping: dict[str, str] = {}
    for value, label in choices.choices:
        mapping[str(value).lower()] = str(value)
        mapping[clean(str(label)).lower()] = str(value)
    return mapping


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class RegisterImport:
    """Reads the rows of one register kind, checks them and writes them in batches."""

    kind: ClassVar[str]
    model: ClassVar[type[models.Model]]
    unique_fields: ClassVar[tuple[str, ...]]
    required: ClassVar[tuple[str, ...]]
    optional: ClassVar[tuple[str, ...]]
    # Model fields each column fills, when not the field of the same name.
    column_fields: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, *, result: ImportResult, columns: tuple[str, ...], batch_size: int) -> None:
        self.result = result
        self.columns = columns
        self.present = set(columns)
        self.batch_size = batch_size
        self.today = timezone.localdate()
        self.seen_keys: set[Any] = set()
        # A column left out of the file leaves that field of existing rows as it is.
        self.write_fields = [
            name
            for column in self.required + self.optional
            if column in self.present
            for name in self.column_fields.get(column, (column,))
            if name not in self.unique_fields
        ]

    @classmethod
    def known_columns(cls) -> tuple[str, ...]:
        return cls.required + cls.optional

    def max_length(self, name: str) -> int:
        return self._max_lengths[name]

    @cached_property
    def _max_lengths(self) -> dict[str, int]:
        return {f.name: int(getattr(f, "max_length", None) or 0) for f in self.model._meta.concrete_fields}

    def read(self, line: int, fields: list[str]) -> Row | None:
        """Check one CSV record; return it as a Row, or record its errors and return None."""
        if len(fields) != len(self.columns):
            self.reject(
                [problem("ROW_FIELD_COUNT", line=line, found=len(fields), expected=len(self.columns))]
            )
            return None
        check = RowCheck(line, {name: clean(value) for name, value in zip(self.columns, fields, strict=True)})
        row = self.parse(check)
        for warning in check.warnings:
            self.result.warnings.add(warning)
        if check.errors or row is None:
            self.reject(check.errors)
            return None
        return row

    def parse(self, check: RowCheck) -> Row | None:
        raise NotImplementedError

    def load(self, rows: list[Row]) -> None:
        """Check the batch against the database and write it (called inside a transaction)."""
        self.upsert(self.classify(rows, self.existing(rows)))

    def finish(self) -> None:
        """Do what needs every row loaded first (called once, after the last batch)."""

    def reject(self, problems: list[Any]) -> None:
        self.result.rejected += 1
        for item in problems:
            self.result.errors.add(item)

    def is_duplicate(self, check: RowCheck, column: str, key: Any, shown: str) -> bool:
        if key in self.seen_keys:
            check.error(column, "DUPLICATE_KEY", value=shown)
            return True
        self.seen_keys.add(key)
        return False

    # Reading what is stored, to tell "unchanged" from "updated" without writing.
    def lookups(self) -> list[str]:
        return list(self.write_fields)

    def compared(self, row: Row) -> tuple[Any, ...]:
        return tuple(row.fields[name] for name in self.write_fields)

    def stored_key(self, values: tuple[Any, ...]) -> Any:
        return values[0]

    def existing(self, rows: list[Row]) -> dict[Any, tuple[Any, ...]]:
        key_field = self.unique_fields[0]
        keys = {row.fields[key_field] for row in rows}
        n = len(self.unique_fields)
        stored = self.model._default_manager.filter(**{f"{key_field}__in": keys}).values_list(
            *self.unique_fields, *self.lookups()
        )
        return {self.stored_key(values[:n]): tuple(values[n:]) for values in stored}

    def classify(self, rows: list[Row], existing: dict[Any, tuple[Any, ...]]) -> list[Row]:
        """Count each row as created, updated or unchanged; return the rows to write."""
        changed = []
        for row in rows:
            stored = existing.get(row.key)
            if stored is None:
                self.result.created += 1
                changed.append(row)
            elif stored != self.compared(row):
                self.result.updated += 1
                changed.append(row)
            else:
                self.result.unchanged += 1
        return changed

    def upsert(self, rows: list[Row]) -> None:
        """Insert the new rows and overwrite the changed ones with ``INSERT … ON CONFLICT DO UPDATE``.

        Written in SQL because building the same statements through bulk_create costs several times
        as long, and a million-row register is the normal case. PostgreSQL gets the whole batch in one
        statement, each column as one array; SQLite (in-process, no round trips) one row per execution.
        """
        if not rows:
            return
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        table = []
        for row in rows:
            values = []
            for name, default, adapt in self._insert_columns:
                value = now if name in _TIMESTAMPS else row.fields.get(name, default)
                values.append(adapt(value) if adapt is not None and value is not None else value)
            table.append(values)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    self._upsert_sql(unnest=True), [list(column) for column in zip(*table, strict=True)]
                )
            else:
                cursor.executemany(self._upsert_sql(unnest=False), table)

    @cached_property
    def _insert_columns(self) -> list[tuple[str, Any, Callable[[Any], Any] | None]]:
        # A model field added later is filled with its default, so the statement keeps working.
        return [
            (
                f.attname,
                f.get_default(),
                connection.ops.adapt_datefield_value if f.get_internal_type() == "DateField" else None,
            )
            for f in self.model._meta.concrete_fields
            if not f.primary_key
        ]

    def _upsert_sql(self, *, unnest: bool) -> str:
        meta = self.model._meta
        fields = {f.attname: f for f in meta.concrete_fields} | {f.name: f for f in meta.concrete_fields}
        quote = connection.ops.quote_name

        def column(name: str) -> str:
            return quote(fields[name].column)

        names = [name for name, _default, _adapt in self._insert_columns]
        if unnest:
            arrays = ", ".join(f"%s::{fields[name].db_type(connection)}[]" for name in names)
            source = f"SELECT * FROM unnest({arrays})"  # noqa: S608 - names come from the model
        else:
            source = "VALUES (" + ", ".join(["%s"] * len(names)) + ")"
        conflict = ", ".join(column(name) for name in self.unique_fields)
        updates = ", ".join(
            f"{column(name)} = EXCLUDED.{column(name)}" for name in [*self.write_fields, "updated_at"]
        )
        # Names come from the model; values are parameters.
        return (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(column(name) for name in names)}) {source} "  # noqa: S608
            f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
        )


class CitizenImport(RegisterImport):
    kind = "citizens"
    model = Citizen
    unique_fields = ("personal_id",)
    required = ("personal_id", "full_name", "birth_date", "sex")
    optional = (
        "ethnicity",
        "nationality",
        "occupation",
        "phone",
        "address",
        "province_code",
        "commune_code",
        "representative_personal_id",
        "representative_relation",
    )
    # The representative is linked after every row is in (they may appear later in the file).
    column_fields = {
        "birth_date": ("birth_year", "birth_month", "birth_day"),
        "representative_personal_id": (),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.with_representatives = "representative_personal_id" in self.present
        self.representatives = _RepresentativeQueue()

    def parse(self, check: RowCheck) -> Row | None:
        personal_id = check.identifier("personal_id", parse_personal_id)
        full_name = check.text("full_name", max_length=self.max_length("full_name"), required=True)
        birth = check.birth_date("birth_date", today=self.today)
        sex = check.sex("sex")
        texts = {
            name: check.text(name, max_length=self.max_length(name))
            for name in ("ethnicity", "nationality", "occupation", "address", "representative_relation")
        }
        phone = check.phone("phone")
        province_code = check.province_code("province_code")
        commune_code = check.commune_code("commune_code")
        representative = check.identifier("representative_personal_id", parse_personal_id, required=False)
        if personal_id is None:
            return None
        for code in personal_id.consistency_warnings(
            birth_year=birth.year if birth else None, sex=birth_sex_for_id(sex)
        ):
            check.warning("personal_id", code)
        if representative is not None and representative.value == personal_id.value:
            check.error("representative_personal_id", "REPRESENTATIVE_SELF")
        # Stored as an int: half the memory of the string for a million-row file.
        if (
            self.is_duplicate(check, "personal_id", int(personal_id.value), personal_id.value)
            or birth is None
        ):
            return None
        fields = {
            "personal_id": personal_id.value,
            "full_name": full_name,
            "birth_year": birth.year,
            "birth_month": birth.month,
            "birth_day": birth.day,
            "sex": sex,
            **texts,
            "nationality": texts["nationality"] or "Việt Nam",
            "phone": phone,
            "province_code": province_code,
            "commune_code": commune_code,
        }
        return Row(check.line, personal_id.value, fields, representative.value if representative else "")

    def lookups(self) -> list[str]:
        # The representative's id, not a join: joining the table to itself costs a full scan per batch.
        return (
            [*self.write_fields, "representative_id"]
            if self.with_representatives
            else list(self.write_fields)
        )

    def load(self, rows: list[Row]) -> None:
        existing = self.existing(rows)
        if self.with_representatives:
            changed = self._classify_with_representatives(rows, existing)
        else:
            changed = self.classify(rows, existing)
        self.upsert(changed)
        if changed:
            # Imports send no post_save; receivers (healthbook links waiting visits) act on commit.
            citizens_imported.send(sender=Citizen, personal_ids=[row.key for row in changed])

    def _classify_with_representatives(
        self, rows: list[Row], existing: dict[Any, tuple[Any, ...]]
    ) -> list[Row]:
        """Classify as ``classify`` does, queueing the rows whose representative differs for ``finish``."""
        linked = {stored[-1] for stored in existing.values() if stored[-1] is not None}
        personal_ids = (
            dict(Citizen.objects.filter(pk__in=linked).values_list("id", "personal_id")) if linked else {}
        )
        changed = []
        for row in rows:
            stored = existing.get(row.key)
            stored_representative = ""
            if stored is None:
                self.result.created += 1
                changed.append(row)
                undecided = False
            else:
                stored_representative = personal_ids.get(stored[-1], "")
                undecided = stored[:-1] == self.compared(row)
                if not undecided:
                    self.result.updated += 1
                    changed.append(row)
            if row.reference != stored_representative:
                # Counted once the representative is resolved: it may not exist, which changes nothing.
                self.representatives.add(row.line, row.key, row.reference, stored_representative, undecided)
            elif undecided:
                self.result.unchanged += 1
        return changed

    def finish(self) -> None:
        for chunk in _chunks(self.representatives, self.batch_size):
            with transaction.atomic():
                self._link_representatives(chunk)

    def _link_representatives(self, chunk: list[_PendingRepresentative]) -> None:
        wanted = {item.personal_id for item in chunk} | {
            item.representative for item in chunk if item.representative
        }
        ids = dict(Citizen.objects.filter(personal_id__in=wanted).values_list("personal_id", "id"))
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        updates = []
        for item in chunk:
            representative_id = ids.get(item.representative) if item.representative else None
            if item.representative and representative_id is None:
                self.result.warnings.add(
                    problem(
                        "REPRESENTATIVE_NOT_FOUND",
                        line=item.line,
                        column="representative_personal_id",
                        value=item.representative,
                        severity="warning",
                    )
                )
            changes = representative_id is not None or item.stored_representative != ""
            if changes:
                updates.append((representative_id, now, ids[item.personal_id]))
            if item.undecided:
                if changes:
                    self.result.updated += 1
                else:
                    self.result.unchanged += 1
        if updates:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {Citizen._meta.db_table} SET representative_id = %s, updated_at = %s WHERE id = %s",  # noqa: S608
                    updates,
                )


@dataclass(frozen=True, slots=True)
class _PendingRepresentative:
    line: int
    personal_id: str
    representative: str
    stored_representative: str
    undecided: bool


class _RepresentativeQueue:
    """Representatives to link after the last batch, spooled to disk to keep memory bounded."""

    def __init__(self) -> None:
        self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - lives as long as the import

    def add(self, line: int, personal_id: str, representative: str, stored: str, undecided: bool) -> None:
        self._spool.write(f"{line}\t{personal_id}\t{representative}\t{stored}\t{int(undecided)}\n")

    def __iter__(self) -> Iterator[_PendingRepresentative]:
        self._spool.seek(0)
        for text in self._spool:
            line, personal_id, representative, stored, undecided = text.rstrip("\n").split("\t")
            yield _PendingRepresentative(int(line), personal_id, representative, stored, undecided == "1")


def _card_key(code: str, valid_from: dt.date) -> str:
    return code + valid_from.isoformat()


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


class CardImport(RegisterImport):
    kind = "cards"
    model = InsuranceCard
    unique_fields = ("code", "valid_from")
    required = (
        "code",
        "holder_personal_id",
        "full_name",
        "birth_date",
        "sex",
        "primary_care_facility_code",
        "valid_from",
        "valid_to",
    )
    optional = ("social_insurance_number", "issuer")
    # The stored social-insurance number is always the code's last 10 characters.
    column_fields = {
        "code": ("code", "social_insurance_number"),
        "social_insurance_number": (),
        "birth_date": ("birth_year", "birth_month", "birth_day"),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.issuers = _choices(CardIssuer)

    def parse(self, check: RowCheck) -> Row | None:
        card = check.identifier("code", parse_card_code)
        number = check.identifier("social_insurance_number", parse_social_insurance_number, required=False)
        if card is not None and number is not None and number != card.social_insurance_number:
            check.error("social_insurance_number", "CARD_NUMBER_MISMATCH")
        holder = check.identifier("holder_personal_id", parse_personal_id)
        full_name = check.text("full_name", max_length=self.max_length("full_name"), required=True)
        birth = check.birth_date("birth_date", today=self.today)
        sex = check.sex("sex")
        facility_code = check.identifier("primary_care_facility_code", parse_facility_code)
        valid_from = check.date("valid_from", required=True)
        valid_to = check.date("valid_to", required=True)
        check.period(valid_from, valid_to, "valid_to")
        issuer = check.choice("issuer", self.issuers, "CARD_ISSUER_INVALID", default=CardIssuer.VSS)
        if holder is not None:
            warnings = holder.consistency_warnings(
                birth_year=birth.year if birth else None, sex=birth_sex_for_id(sex)
            )
            for code in warnings:
                check.warning("holder_personal_id", code)
        if card is None or valid_from is None:
            return None
        key = _card_key(card.value, valid_from)
        if self.is_duplicate(check, "code", key, f"{card.value} ({valid_from:%d/%m/%Y})"):
            return None
        if holder is None or birth is None:
            return None
        fields = {
            "code": card.value,
            "social_insurance_number": card.social_insurance_number,
            "holder_personal_id": holder.value,
            "full_name": full_name,
            "birth_year": birth.year,
            "birth_month": birth.month,
            "birth_day": birth.day,
            "sex": sex,
            "primary_care_facility_code": facility_code,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "issuer": issuer,
        }
        return Row(check.line, key, fields)

    def stored_key(self, values: tuple[Any, ...]) -> Any:
        return _card_key(values[0], values[1])

    def load(self, rows: list[Row]) -> None:
        accepted = self._without_overlaps(rows)
        self._warn_about_holders(accepted)
        self.upsert(self.classify(accepted, self.existing(accepted)))

    def _without_overlaps(self, rows: list[Row]) -> list[Row]:
        """Reject the rows whose period overlaps another card of the same holder (stored or earlier)."""
        holders = {row.fields["holder_personal_id"] for row in rows}
        periods: dict[str, dict[str, tuple[dt.date, dt.date]]] = defaultdict(dict)
        owners: dict[str, str] = {}
        stored = InsuranceCard.objects.filter(holder_personal_id__in=holders).values_list(
            "code", "valid_from", "valid_to", "holder_personal_id"
        )
        for code, valid_from, valid_to, holder in stored:
            key = _card_key(code, valid_from)
            periods[holder][key] = (valid_from, valid_to)
            owners[key] = holder
        accepted = []
        for row in rows:
            holder, start, end = (
                row.fields["holder_personal_id"],
                row.fields["valid_from"],
                row.fields["valid_to"],
            )
            clash = next(
                (
                    (key, period)
                    for key, period in periods[holder].items()
                    if key != row.key and period[0] <= end and start <= period[1]
                ),
                None,
            )
            if clash is not None:
                other, (other_from, other_to) = clash
                self.reject(
                    [
                        problem(
                            "CARD_PERIOD_OVERLAP",
                            line=row.line,
                            column="valid_from",
                            value=f"{start:%d/%m/%Y}–{end:%d/%m/%Y}",
                            other=other[:15],
                            valid_from=f"{other_from:%d/%m/%Y}",
                            valid_to=f"{other_to:%d/%m/%Y}",
                        )
                    ]
                )
                continue
            previous_owner = owners.get(row.key)
            if previous_owner is not None and previous_owner != holder:
                periods[previous_owner].pop(row.key, None)
            periods[holder][row.key] = (start, end)
            owners[row.key] = holder
            accepted.append(row)
        return accepted

    def _warn_about_holders(self, rows: list[Row]) -> None:
        """Warn where the card's holder is not in the population register or their details differ."""
        holders = {row.fields["holder_personal_id"] for row in rows}
        people = {
            personal_id: (name, PartialDate(year, month, day), sex)
            for personal_id, name, year, month, day, sex in Citizen.objects.filter(
                personal_id__in=holders
            ).values_list("personal_id", "full_name", "birth_year", "birth_month", "birth_day", "sex")
        }
        for row in rows:
            fields = row.fields
            person = people.get(fields["holder_personal_id"])
            if person is None:
                self.result.warnings.add(
                    problem(
                        "CARD_HOLDER_NOT_FOUND",
                        line=row.line,
                        column="holder_personal_id",
                        value=fields["holder_personal_id"],
                        severity="warning",
                    )
                )
                continue
            name, birth, sex = person
            differ = []
            if _name_key(name) != _name_key(fields["full_name"]):
                differ.append(gettext("họ và tên"))
            if not birth.matches(
                PartialDate(fields["birth_year"], fields["birth_month"], fields["birth_day"])
            ):
                differ.append(gettext("ngày sinh"))
            if sex != fields["sex"]:
                differ.append(gettext("giới tính"))
            if differ:
                self.result.warnings.add(
                    problem(
                        "CARD_HOLDER_DETAILS_DIFFER",
                        line=row.line,
                        column="holder_personal_id",
                        value=fields["holder_personal_id"],
                        severity="warning",
                        fields=", ".join(differ),
                    )
                )


def _org_unit_code(check: RowCheck, column: str, *, required: bool) -> str:
    value = check.raw(column)
    if not value:
        if required:
            check.error(column, "VALUE_REQUIRED")
        return ""
    if not ORG_UNIT_CODE_RE.match(value):
        check.error(column, "ORG_UNIT_CODE_INVALID")
        return ""
    return value


class FacilityImport(RegisterImport):
    kind = "facilities"
    model = Facility
    unique_fields = ("code",)
    required = ("code", "name")
    optional = ("level", "province_code", "org_unit_code", "active_from", "active_to")
    column_fields = {"org_unit_code": ("org_unit_id",)}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.levels = _choices(FacilityLevel) | {
            "ban đầu": "initial",
            "cơ bản": "basic",
            "chuyên sâu": "specialised",
        }

    def parse(self, check: RowCheck) -> Row | None:
        code = check.identifier("code", parse_facility_code)
        name = check.text("name", max_length=self.max_length("name"), required=True)
        level = check.choice("level", self.levels, "FACILITY_LEVEL_INVALID", default=FacilityLevel.BASIC)
        # The facility code starts with the 2-digit province code (DOMAIN.md §2).
        province_code = check.province_code("province_code", default=code[:2] if code else "")
        org_unit_code = _org_unit_code(check, "org_unit_code", required=False)
        active_from = check.date("active_from", default=DEFAULT_START)
        active_to = check.date("active_to")
        check.period(active_from, active_to, "active_to")
        if code is None or self.is_duplicate(check, "code", code, code):
            return None
        fields = {
            "code": code,
            "name": name,
            "level": level,
            "province_code": province_code,
            "active_from": active_from,
            "active_to": active_to,
        }
        return Row(check.line, code, fields, org_unit_code)

    def load(self, rows: list[Row]) -> None:
        wanted = {row.reference for row in rows if row.reference}
        ids = dict(OrgUnit.objects.filter(code__in=wanted).values_list("code", "id"))
        accepted = []
        for row in rows:
            if row.reference and row.reference not in ids:
                self.reject(
                    [
                        problem(
                            "ORG_UNIT_NOT_FOUND", line=row.line, column="org_unit_code", value=row.reference
                        )
                    ]
                )
                continue
            row.fields["org_unit_id"] = ids.get(row.reference)
            accepted.append(row)
        self.upsert(self.classify(accepted, self.existing(accepted)))


class OrgUnitImport(RegisterImport):
    kind = "orgunits"
    model = OrgUnit
    unique_fields = ("code",)
    required = ("code", "name", "kind")
    optional = ("parent_code", "province_code", "commune_code", "valid_from", "valid_to")
    column_fields = {"parent_code": ("parent_id",)}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kinds = _choices(OrgUnitKind)
        # The whole tree (code -> parent code) in memory: tens of thousands of units at most, and it
        # lets a parent earlier in the file, and a cycle through it, be found before anything is written.
        self.tree: dict[str, str | None] = dict(OrgUnit.objects.values_list("code", "parent__code"))

    def parse(self, check: RowCheck) -> Row | None:
        code = _org_unit_code(check, "code", required=True)
        name = check.text("name", max_length=self.max_length("name"), required=True)
        kind = ""
        if check.raw("kind"):
            kind = check.choice("kind", self.kinds, "ORG_UNIT_KIND_INVALID", default="")
        else:
            check.error("kind", "VALUE_REQUIRED")
        parent = _org_unit_code(check, "parent_code", required=False)
        province_code = check.province_code("province_code")
        commune_code = check.commune_code("commune_code")
        valid_from = check.date("valid_from", default=DEFAULT_START)
        valid_to = check.date("valid_to")
        check.period(valid_from, valid_to, "valid_to")
        if not code or self.is_duplicate(check, "code", code, code):
            return None
        if parent and parent not in self.tree:
            check.error("parent_code", "PARENT_NOT_FOUND")
        elif parent and self._is_under(parent, code):
            check.error("parent_code", "ORG_UNIT_CYCLE")
        if check.errors:
            return None
        if "parent_code" in self.present or code not in self.tree:
            self.tree[code] = parent or None
        fields = {
            "code": code,
            "name": name,
            "kind": kind,
            "province_code": province_code,
            "commune_code": commune_code,
            "valid_from": valid_from,
            "valid_to": valid_to,
        }
        return Row(check.line, code, fields, parent)

    def _is_under(self, unit: str, ancestor: str) -> bool:
        """Tell whether ``ancestor`` is ``unit`` or above it in the tree."""
        current: str | None = unit
        for _step in range(len(self.tree) + 1):
            if current is None:
                return False
            if current == ancestor:
                return True
            current = self.tree.get(current)
        return True  # a loop already stored: refuse to attach anything to it

    def lookups(self) -> list[str]:
        return ["parent__code" if name == "parent_id" else name for name in self.write_fields]

    def compared(self, row: Row) -> tuple[Any, ...]:
        return tuple(
            (row.reference or None) if name == "parent_id" else row.fields[name] for name in self.write_fields
        )

    def load(self, rows: list[Row]) -> None:
        changed = self.classify(rows, self.existing(rows))
        if "parent_code" not in self.present:
            self.upsert(changed)
            return
        parents = {row.reference for row in changed if row.reference}
        ids = dict(OrgUnit.objects.filter(code__in=parents).values_list("code", "id"))
        for row in changed:
            row.fields["parent_id"] = ids.get(row.reference)
        self.upsert(changed)
        # A parent created in this same batch has an id only now.
        late = [row for row in changed if row.reference and row.reference not in ids]
        if late:
            wanted = {row.key for row in late} | {row.reference for row in late}
            ids = dict(OrgUnit.objects.filter(code__in=wanted).values_list("code", "id"))
            OrgUnit.objects.bulk_update(
                [OrgUnit(pk=ids[row.key], parent_id=ids[row.reference]) for row in late],
                ["parent"],
                batch_size=500,
            )


IMPORTERS: dict[str, type[RegisterImport]] = {
    importer.kind: importer for importer in (CitizenImport, CardImport, FacilityImport, OrgUnitImport)
}
KINDS = tuple(IMPORTERS)


class _Interrupted(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def import_register(
    *, kind: str, path: str | Path, strict: bool = False, batch_size: int = BATCH_SIZE
) -> ImportResult:
    """Import one register CSV file (``kind`` is one of KINDS); never raises on bad input.

    Each batch is its own transaction; with ``strict`` the whole file is one transaction, and any
    rejected row rolls it back so that nothing is loaded.
    """
    importer_class = IMPORTERS[kind]
    result = ImportResult(file=str(path), kind=kind, strict=strict)
    try:
        table, header_warnings = open_table(
            path, known=importer_class.known_columns(), required=importer_class.required
        )
    except FileRejected as exc:
        _reject_file(result, exc.problems)
        return result
    for warning in header_warnings:
        result.warnings.add(warning)
    outer: contextlib.AbstractContextManager[Any] = (
        transaction.atomic() if strict else contextlib.nullcontext()
    )
    with outer:
        _run(importer_class, table, result, batch_size)
        if result.rolled_back:
            transaction.set_rollback(True)
    if result.rolled_back:
        result.created = result.updated = result.unchanged = 0
    return result


def _run(
    importer_class: type[RegisterImport], table: CsvTable, result: ImportResult, batch_size: int
) -> None:
    line = table.header_line  # the last line read, reported if the database fails outside a batch
    try:
        importer = importer_class(result=result, columns=table.columns, batch_size=batch_size)
        batch: list[Row] = []
        for line, fields in table.records():
            result.rows += 1
            row = importer.read(line, fields)
            if row is not None:
                batch.append(row)
            if len(batch) >= batch_size:
                _load(importer, batch)
                batch = []
        if batch:
            _load(importer, batch)
        importer.finish()
    except FileRejected as exc:
        # The file changed between the check and the import.
        _reject_file(result, exc.problems)
    except _Interrupted as exc:
        _reject_file(result, [problem("IMPORT_INTERRUPTED", line=exc.line)])
    except DatabaseError:
        logger.exception("registry import of %s stopped", result.file)
        _reject_file(result, [problem("IMPORT_INTERRUPTED", line=line)])


def _load(importer: RegisterImport, batch: list[Row]) -> None:
    result = importer.result
    before = (result.created, result.updated, result.unchanged, result.rejected)
    try:
        with transaction.atomic():
            importer.load(batch)
    except DatabaseError:
        logger.exception("registry import of %s: batch from line %d failed", result.file, batch[0].line)
        result.created, result.updated, result.unchanged, result.rejected = before
        raise _Interrupted(batch[0].line) from None
    if settings.DEBUG:
        reset_queries()  # DEBUG keeps every query's SQL; a million rows would fill memory


def _reject_file(result: ImportResult, problems: list[Any]) -> None:
    result.file_rejected = True
    for item in problems:
        result.errors.add(item)
