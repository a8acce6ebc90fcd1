"""Parse and check the national identifiers (DOMAIN.md §2).

Each parser returns a small frozen value or raises ``IdentifierError`` with a stable code.
Soft checks (a personal ID whose sex/century digit disagrees with the stored person) return
warning codes instead of raising, because the population register, not the ID, is the truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CARD_GROUP_CODES: frozenset[str] = frozenset(
    [
        "DN",
        "HX",
        "CH",
        "NN",
        "TK",
        "HC",
        "XK",
        "HT",
        "TB",
        "NO",
        "CT",
        "XB",
        "TN",
        "CS",
        "QN",
        "CA",
        "CY",
        "XN",
        "MS",
        "CC",
        "CK",
        "CB",
        "KC",
        "HD",
        "TE",
        "BT",
        "HN",
        "DT",
        "DK",
        "XD",
        "TS",
        "TC",
        "TQ",
        "TA",
        "TY",
        "HG",
        "LS",
        "PV",
        "CN",
        "HS",
        "SV",
        "GB",
        "GD",
        "AK",
        "LH",
        "TG",
        "DS",
        "HK",
        "ND",
        "TH",
        "TV",
        "TD",
        "TU",
        "BA",
    ]
)

_PERSONAL_ID_RE = re.compile(r"^[0-9]{12}$")
_CARD_RE = re.compile(r"^([A-Z]{2})([0-9])([0-9]{2})([0-9]{10})$")
_SOCIAL_NUMBER_RE = re.compile(r"^[0-9]{10}$")
_FACILITY_RE = re.compile(r"^[0-9]{5}$")
ICD10_RE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9]{1,2})?$")


class IdentifierError(ValueError):
    """A value that is not a well-formed identifier; ``code`` is stable and documented."""

    def __init__(self, code: str, value: str) -> None:
        super().__init__(f"{code}: {value!r}")
        self.code = code
        self.value = value


@dataclass(frozen=True, slots=True)
class PersonalId:
    """A 12-digit personal identification number ``PPP G YY RRRRRR``."""

    value: str

    @property
    def province_code(self) -> str:
        return self.value[:3]

    @property
    def sex(self) -> str:
        """'M' or 'F', from the sex/century digit (even = male)."""
        return "M" if int(self.value[3]) % 2 == 0 else "F"

    @property
    def birth_year(self) -> int:
        century = 1900 + (int(self.value[3]) // 2) * 100
        return century + int(self.value[4:6])

    def consistency_warnings(self, *, birth_year: int | None, sex: str | None) -> list[str]:
        """Return warning codes where the ID disagrees with the person's stored birth year or sex."""
        warnings: list[str] = []
        if birth_year is not None and birth_year != self.birth_year:
            warnings.append("PERSONAL_ID_BIRTH_YEAR_MISMATCH")
        if sex in ("M", "F") and sex != self.sex:
            warnings.append("PERSONAL_ID_SEX_MISMATCH")
        return warnings

    def __str__(self) -> str:
        return self.value


def parse_personal_id(raw: str) -> PersonalId:
    """Parse a personal ID strictly: exactly 12 ASCII digits, surrounding spaces ignored."""
    value = (raw or "").strip()
    if not value:
        raise IdentifierError("PERSONAL_ID_MISSING", raw)
    if not _PERSONAL_ID_RE.match(value):
        raise IdentifierError("PERSONAL_ID_INVALID", raw)
    return PersonalId(value)


@dataclass(frozen=True, slots=True)
class CardCode:
    """A 15-character BHYT card code ``AA N PP BBBBBBBBBB``."""

    value: str

    @property
    def group(self) -> str:
        return self.value[:2]

    @property
    def benefit_level(self) -> int:
        return int(self.value[2])

    @property
    def province_code(self) -> str:
        return self.value[3:5]

    @property
    def social_insurance_number(self) -> str:
        return self.value[5:]

    def __str__(self) -> str:
        return self.value


def parse_card_code(raw: str) -> CardCode:
    """Parse a 15-character card code (upper-cased; spaces ignored)."""
    value = (raw or "").strip().upper()
    if not value:
        raise IdentifierError("CARD_CODE_MISSING", raw)
    match = _CARD_RE.match(value)
    if not match:
        raise IdentifierError("CARD_CODE_INVALID", raw)
    group, level, _province, _number = match.groups()
    if group not in CARD_GROUP_CODES:
        raise IdentifierError("CARD_GROUP_UNKNOWN", raw)
    if not 1 <= int(level) <= 5:
        raise IdentifierError("CARD_LEVEL_INVALID", raw)
    return CardCode(value)


def parse_social_insurance_number(raw: str) -> str:
    """Parse the lifelong 10-digit social-insurance number (*mã số BHXH*)."""
    value = (raw or "").strip()
    if not _SOCIAL_NUMBER_RE.match(value):
        raise IdentifierError("SOCIAL_INSURANCE_NUMBER_INVALID", raw)
    return value


def parse_card_or_number(raw: str) -> tuple[CardCode | None, str]:
    """Accept what a citizen types when linking a card: the 15-char code or its last 10 digits."""
    value = (raw or "").strip().upper().replace(" ", "")
    if len(value) == 10:
        return None, parse_social_insurance_number(value)
    card = parse_card_code(value)
    return card, card.social_insurance_number


def parse_facility_code(raw: str) -> str:
    """Parse a 5-character facility code: 2-digit province + 3 digits."""
    value = (raw or "").strip()
    if not _FACILITY_RE.match(value):
        raise IdentifierError("FACILITY_CODE_INVALID", raw)
    return value


def is_icd10(raw: str) -> bool:
    """Tell whether ``raw`` has the shape of an ICD-10 code (``I10``, ``E11.9``)."""
    return bool(ICD10_RE.match(raw or ""))
