"""What the parser yields and the validator returns: plain data, no database.

``iter_visits`` yields ``ParsedVisit`` (one per HOSO that could be read), ``Problem`` (a HOSO that could not be
read: no visit is yielded for it) and ``FileProblem`` (the whole file, e.g. truncated or refused).
``validate_visit`` turns a ``ParsedVisit`` into a ``ValidatedVisit`` with every error and warning at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from soskdt.core.errors import Problem

#: One row of a table: field name -> stripped text ("" for an empty element), in document order.
Row = dict[str, str]


@dataclass(slots=True)
class FileProblem(Problem):
    """A problem with the whole file rather than one visit (``iter_visits`` stops after an error of this kind
    unless the code is a warning or ENVELOPE_FACILITY_*)."""


@dataclass(slots=True)
class EnvelopeInfo:
    """What the GIAMDINHHS envelope says; filled in while the file is read (see ``VisitStream.envelope``)."""

    file: str
    facility_code: str | None = None
    created_on: str | None = None  # NGAYLAP as written
    declared_count: int | None = None  # SOLUONGHOSO
    visit_count: int = 0  # HOSO seen (read or not)
    signature: str | None = None  # "last" (child of GIAMDINHHS) | "inside" (in THONGTINDONVI) | None
    complete: bool = False  # the end of the document was reached without a fatal problem

    @property
    def signed(self) -> bool:
        return self.signature is not None


@dataclass(slots=True)
class ParsedVisit:
    """One HOSO as read from the file: raw stripped strings, nothing checked yet.

    ``tables`` holds XML1, XML2, XML3, XML4, XML5, XML7, XML8, XML13, XML14 as lists of rows (row order kept;
    single-record tables have one row). ``raw_documents`` holds every other FILEHOSO (XML9, XML11, XML15, XML6,
    XML10, XML12, XML0, unknown types) as ``{"root": tag, "data": nested dict/list of strings, "text": original
    XML}``. ``problems`` are what the parser noticed without refusing the visit (e.g. a repeated field).
    """

    file: str
    index: int  # HOSO position in the file, 1-based
    facility_code: str | None  # envelope MACSKCB
    ma_lk: str | None  # XML1 TONG_HOP/MA_LK, None if XML1 or its MA_LK is missing
    tables: dict[str, list[Row]] = field(default_factory=dict)
    raw_documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def rows(self, table: str) -> list[Row]:
        """Rows of ``table`` (empty list if the visit has none)."""
        return self.tables.get(table, [])

    @property
    def item_count(self) -> int:
        """Number of rows over all tables (for throughput figures)."""
        return sum(len(rows) for rows in self.tables.values())


@dataclass(slots=True)
class ValidatedVisit:
    """A parsed visit with every problem found and its typed values.

    ``values`` mirrors ``parsed.tables`` row by row with typed values for the non-empty, valid fields: ``str`` for
    codes and text (leading zeros kept), ``int`` or ``Decimal`` for numbers, naive local ``datetime`` for
    ``yyyymmddHHMM``, ``date`` for ``yyyymmdd``, ``list[...]`` for ``;``-separated cards/dates/ICD-10 lists, and for
    NGAY_SINH a ``datetime`` when complete or a ``soskdt.core.dates.PartialDate`` when day or month is 00.
    """

    parsed: ParsedVisit
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    values: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def ma_lk(self) -> str | None:
        return self.parsed.ma_lk

    @property
    def facility_code(self) -> str | None:
        return self.parsed.facility_code

    @property
    def problems(self) -> list[Problem]:
        return [*self.errors, *self.warnings]

    def value(self, table: str, name: str, row: int = 0) -> object | None:
        """Typed value of ``name`` in row ``row`` (0-based) of ``table``, or None."""
        rows = self.values.get(table)
        if not rows or row >= len(rows):
            return None
        return rows[row].get(name)
