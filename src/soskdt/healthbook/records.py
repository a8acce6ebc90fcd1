"""What the ingestion pipeline hands to the health book, and what it gets back.

The pipeline fills one ``VisitInput`` per visit (*đợt khám chữa bệnh*) with the validated values of
each QĐ 130 table, keyed by the standard's field names (``MA_LK``, ``NGAY_VAO`` …), typed as the
validator produces them: ``str`` codes and text, ``int``/``Decimal`` numbers, naive local
(Asia/Ho_Chi_Minh) ``datetime`` for ``yyyymmddHHMM``, ``date`` for ``yyyymmdd``, ``list`` for
``;``-separated lists, ``PartialDate`` for a birth date known only to the year or month, ``None`` for
empty. Missing keys are the same as ``None``. A value of another type is converted when it can be
(``"202503100830"`` for a time) and otherwise kept as text with a warning: pass the raw text of a
field that failed typing rather than dropping it. ``healthbook.fieldmap`` says where each field goes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Row = dict[str, Any]


@dataclass(slots=True)
class VisitInput:
    """One visit as sent: XML1 in ``summary``, one list per line table, one dict per single paper.

    ``raw_documents`` keeps the other tables as sent (``{"XML9": [...], "XML11": {...}}``).
    ``warnings`` are the validator's non-blocking problems (``core.errors.Problem.as_dict()``), kept
    with the visit. ``submission_ref`` names the ingestion submission the visit came in.
    """

    facility_code: str
    ma_lk: str
    submission_ref: str = ""
    received_at: dt.datetime | None = None
    summary: Row = field(default_factory=dict)
    drugs: list[Row] = field(default_factory=list)
    services: list[Row] = field(default_factory=list)
    results: list[Row] = field(default_factory=list)
    notes: list[Row] = field(default_factory=list)
    discharge_paper: Row | None = None
    record_summary: Row | None = None
    referral: Row | None = None
    follow_up: Row | None = None
    raw_documents: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.facility_code, self.ma_lk)


class VisitStatus(StrEnum):
    ACCEPTED = "accepted"  # a new visit, version 1
    REPLACED = "replaced"  # a new version; the previous one is kept in VisitVersion
    UNCHANGED = "unchanged"  # same content as the stored version: nothing was written


@dataclass(frozen=True, slots=True)
class VisitOutcome:
    """What happened to one ``VisitInput``, in input order."""

    facility_code: str
    ma_lk: str
    status: VisitStatus
    visit_id: int
    version: int
    citizen_id: int | None
    warnings: tuple[dict[str, Any], ...] = ()

    @property
    def linked(self) -> bool:
        return self.citizen_id is not None
