"""The QĐ 130 field catalogue (``data/qd130-fields.json``), loaded once and shaped for the parser and validator.

The JSON gives, per table XML0…XML15, the inner root, list container, record element, and the ordered fields
with their effective type (``string``/``number``), effective maximum length and portal-required flag. It does
not say which string fields are times, dates, card codes or ICD-10 lists: that is derived here (``FieldSpec.format``)
from the field names, by explicit sets kept next to each other so a reviewer can check them against QĐ 130.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

CATALOGUE_PATH = Path(__file__).resolve().parent / "data" / "qd130-fields.json"

#: Tables read into flat rows (``ParsedVisit.tables``); every other table is kept as a raw document.
ROW_TABLES: tuple[str, ...] = ("XML1", "XML2", "XML3", "XML4", "XML5", "XML7", "XML8", "XML13", "XML14")

# --- formats derived from field names (the JSON only says string/number) ---------------------------------
#: ``yyyymmddHHMM`` points in time.
TIME_FIELDS = frozenset(
    {
        "NGAY_VAO",
        "NGAY_VAO_NOI_TRU",
        "NGAY_RA",
        "NGAY_TTOAN",
        "NGAY_YL",
        "NGAY_TH_YL",
        "NGAY_KQ",
        "THOI_DIEM_DBLS",
        "THOIGIAN_DINHCHI",
        "NGAY_SINH_CON",
        "NGAY_HEN_KL",
    }
)
#: Birth dates: ``yyyymmddHHMM`` whose day and month may be ``00`` when unknown (12 chars), or ``yyyymmdd``.
BIRTH_FIELDS = frozenset({"NGAY_SINH"})
#: 8 or 12 characters (QĐ 130: "NGAY_MIEN_CCT … gồm 8 hoặc 12 ký tự").
TIME_OR_DATE_FIELDS = frozenset({"NGAY_MIEN_CCT"})
#: ``;``-separated ``yyyymmdd`` lists.
DATE_LIST_FIELDS = frozenset({"GT_THE_TU", "GT_THE_DEN", "NGAY_TAI_KHAM"})
#: 8-character date fields whose names do not contain "NGAY".
OTHER_DATE_FIELDS = frozenset({"BDDT_ARV", "NAM_NAM_LIEN_TUC"})
#: ``;``-separated BHYT card codes (a new card may be issued during the stay).
CARD_LIST_FIELDS = frozenset({"MA_THE_BHYT"})
#: A single BHYT card code (temporary cards of newborns/organ donors, the mother's card).
CARD_FIELDS = frozenset({"MA_THE_TAM", "MA_THE_NND"})
#: 5-digit facility codes.
FACILITY_FIELDS = frozenset({"MA_CSKCB", "MA_NOI_DI", "MA_NOI_DEN"})
#: ``;``-separated facility codes (one per card).
FACILITY_LIST_FIELDS = frozenset({"MA_DKBD"})
#: Exactly one ICD-10 code.
ICD_FIELDS = frozenset({"MA_BENH_CHINH"})
#: ``;``-separated ICD-10 codes; ``MA_BENH_KT`` holds at most 12 (QĐ 130, Bảng 1).
ICD_LIST_FIELDS = frozenset({"MA_BENH_KT", "MA_BENH"})
MAX_SECONDARY_DIAGNOSES = 12
#: Personal identification numbers (12-digit ID, 9-digit old card, passport letter + 7 digits).
PERSONAL_ID_FIELDS = frozenset({"SO_CCCD", "SO_CCCD_NND"})
#: String fields holding a decimal number (body weight in kg, "." decimal).
DECIMAL_STRING_FIELDS = frozenset({"CAN_NANG"})

#: Field name -> code list name, for lists that are authoritative (a value outside → error).
STRICT_CODE_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "GIOI_TINH": "GIOI_TINH",
        "GIOI_TINH_CON": "GIOI_TINH",
        "KET_QUA_DTRI": "KET_QUA_DTRI",
        "MA_LOAI_RV": "MA_LOAI_RV",
        "MA_LOAI_KCB": "MA_LOAI_KCB",
        "MA_NHOM": "MA_NHOM",
        "PHAM_VI": "PHAM_VI",
        "MA_PTTT": "MA_PTTT",
        "NGUON_CTRA": "NGUON_CTRA",
        "PP_VO_CAM": "PP_VO_CAM",
        "MA_LYDO_CT": "MA_LYDO_CT",
    }
)
#: Field name -> code list name, for lists the catalogue marks as partial or vendor-sourced (→ warning only).
LOOSE_CODE_FIELDS: Mapping[str, str] = MappingProxyType(
    {"MA_TAI_NAN": "MA_TAI_NAN", "MA_KHUVUC": "MA_KHUVUC", "MA_DOITUONG_KCB": "MA_DOITUONG_KCB"}
)
#: ``MA_LOAI_KCB`` codes of QĐ 130/QĐ 824 (error outside) and the later ones of QĐ 1804 (warning only).
VISIT_TYPES_QD130 = frozenset(f"{n:02d}" for n in range(1, 10))
VISIT_TYPES_LATER = frozenset(f"{n:02d}" for n in range(10, 17))


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a table as the catalogue describes it, plus the derived ``format``."""

    name: str
    order: int
    type: str  # "string" | "number"
    max_len: int | None
    required: bool  # portal-required flag is exactly "x"
    required_note: str | None  # conditional requirement as worded in the catalogue ("Bắt buộc khi …")
    format: str  # see ``_format_of``
    code_list: str | None
    strict_codes: bool
    meaning: str


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One QĐ 130 table: where its records are in the inner document and its fields in catalogue order."""

    name: str
    title_vi: str
    title_en: str
    inner_root: str | None
    list_container: str | None
    record_element: str | None
    single_record: bool
    fields: tuple[FieldSpec, ...]
    by_name: Mapping[str, FieldSpec]
    required: tuple[str, ...]

    @property
    def has_rows(self) -> bool:
        """Tell whether the parser reads this table into flat rows (else it is kept as a raw document)."""
        return self.name in ROW_TABLES

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True, slots=True)
class Catalogue:
    tables: Mapping[str, TableSpec]
    by_root: Mapping[str, TableSpec]
    code_lists: Mapping[str, Mapping[str, str]]
    envelope: Mapping[str, Any]
    identifiers: Mapping[str, Any]

    def table(self, name: str) -> TableSpec:
        return self.tables[name]

    def codes(self, list_name: str) -> frozenset[str]:
        return frozenset(self.code_lists.get(list_name, {}))


def _max_len(raw: Any) -> int | None:
    return int(raw) if isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit()) else None


def _format_of(name: str, type_: str, max_len: int | None) -> str:
    # Personal IDs and coded values stay strings even where the catalogue types them as numbers (XML15.SO_CCCD,
    # GIOI_TINH): leading zeros matter and the code lists are lists of strings.
    if name in PERSONAL_ID_FIELDS:
        return "personal_id"
    if name in STRICT_CODE_FIELDS or name in LOOSE_CODE_FIELDS:
        return "code"
    if type_ == "number":
        return "number"
    if name in BIRTH_FIELDS:
        return "birth"
    if name in TIME_FIELDS:
        return "time"
    if name in TIME_OR_DATE_FIELDS:
        return "time_or_date"
    if name in DATE_LIST_FIELDS:
        return "date_list"
    if max_len == 8 and ("NGAY" in name or name in OTHER_DATE_FIELDS):
        return "date"
    if name in CARD_LIST_FIELDS:
        return "card" if max_len == 15 else "card_list"
    if name in CARD_FIELDS:
        return "card"
    if name in FACILITY_FIELDS:
        return "facility"
    if name in FACILITY_LIST_FIELDS:
        return "facility" if max_len == 5 else "facility_list"
    if name in ICD_FIELDS:
        return "icd"
    if name in ICD_LIST_FIELDS:
        return "icd_list"
    if name in DECIMAL_STRING_FIELDS:
        return "decimal"
    return "text"


def _code_lists(raw: Mapping[str, Any]) -> dict[str, Mapping[str, str]]:
    def plain(entries: Any) -> dict[str, str]:
        if not isinstance(entries, dict):
            return {}
        return {k: str(v) for k, v in entries.items() if k not in ("note", "source")}

    lists = {name: plain(entries) for name, entries in raw.items()}
    lists["MA_LOAI_KCB"] = {
        k: v for k, v in plain(raw.get("MA_LOAI_KCB_QD824", {})).items() if k in VISIT_TYPES_QD130
    }
    # Both known lists of visit-category codes: a value in neither is only a warning (the catalogue calls the
    # second one partial and both come from secondary sources).
    lists["MA_DOITUONG_KCB"] = {
        **plain(raw.get("MA_DOITUONG_KCB_QD824_2023_partial", {})),
        **plain(raw.get("MA_DOITUONG_KCB_QD3276_2025", {})),
    }
    return {k: MappingProxyType(v) for k, v in lists.items()}


def _build(data: Mapping[str, Any]) -> Catalogue:
    tables: dict[str, TableSpec] = {}
    by_root: dict[str, TableSpec] = {}
    for name, table in data["tables"].items():
        specs: list[FieldSpec] = []
        for f in sorted(table["fields"], key=lambda f: f["order"]):
            type_ = "number" if f.get("effective_type") == "number" else "string"
            max_len = _max_len(f.get("effective_max_len"))
            flag = (f.get("required_portal") or "").strip()
            fname = f["name"]
            code_list = STRICT_CODE_FIELDS.get(fname) or LOOSE_CODE_FIELDS.get(fname)
            specs.append(
                FieldSpec(
                    name=fname,
                    order=int(f["order"]),
                    type=type_,
                    max_len=max_len,
                    required=flag == "x",
                    required_note=flag if flag and flag != "x" else None,
                    format=_format_of(fname, type_, max_len),
                    code_list=code_list,
                    strict_codes=fname in STRICT_CODE_FIELDS,
                    meaning=f.get("meaning_en") or "",
                )
            )
        spec = TableSpec(
            name=name,
            title_vi=table.get("name_vi", ""),
            title_en=table.get("name_en", ""),
            inner_root=table.get("inner_root"),
            list_container=table.get("list_container"),
            record_element=table.get("record_element"),
            single_record=bool(table.get("single_record")),
            fields=tuple(specs),
            by_name=MappingProxyType({s.name: s for s in specs}),
            required=tuple(s.name for s in specs if s.required),
        )
        tables[name] = spec
        if spec.inner_root:
            by_root[spec.inner_root] = spec
    return Catalogue(
        tables=MappingProxyType(tables),
        by_root=MappingProxyType(by_root),
        code_lists=MappingProxyType(_code_lists(data.get("code_lists", {}))),
        envelope=MappingProxyType(dict(data.get("envelope", {}))),
        identifiers=MappingProxyType(dict(data.get("identifiers", {}))),
    )


@cache
def load_catalogue() -> Catalogue:
    """Return the catalogue, read from the JSON file on first use."""
    with CATALOGUE_PATH.open(encoding="utf-8") as handle:
        return _build(json.load(handle))


def table(name: str) -> TableSpec:
    """Return the spec of table ``name`` (``"XML1"``…); ``KeyError`` if the catalogue has no such table."""
    return load_catalogue().tables[name]


def table_for_root(root_tag: str) -> TableSpec | None:
    """Return the table whose inner document has ``root_tag`` as its root element, if any."""
    return load_catalogue().by_root.get(root_tag)


def code_list(name: str) -> Mapping[str, str]:
    """Return a code list (code -> label) by name; empty if unknown."""
    return load_catalogue().code_lists.get(name, MappingProxyType({}))
