"""One error shape for the whole product: stable code, Vietnamese message, location.

API answers: ``{"error": {"code": "CARD_NOT_FOUND", "message": "...", "details": [...]}}``.
Every code used anywhere is declared once with ``define`` so that docs/errors.md can list them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_CATALOGUE: dict[str, Promise | str] = {}


def define(code: str, message: Promise | str) -> str:
    """Declare an error code with its (translatable) message and return the code."""
    existing = _CATALOGUE.get(code)
    if existing is not None and str(existing) != str(message):
        raise ValueError(f"error code {code} declared twice with different messages")
    _CATALOGUE[code] = message
    return code


def message_for(code: str, **params: Any) -> str:
    """Return the message of ``code`` in the active language, formatted with ``params``."""
    template = _CATALOGUE.get(code)
    if template is None:
        return code
    text = str(template)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def catalogue() -> dict[str, str]:
    """Every declared code with its message in the active language."""
    return {code: str(msg) for code, msg in sorted(_CATALOGUE.items())}


@dataclass(slots=True)
class Problem:
    """One problem found in input: where it is, what it is, and whether it blocks."""

    code: str
    message: str = ""
    file: str | None = None
    record: str | None = None
    table: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None
    value: str | None = None
    severity: str = "error"
    extra: dict[str, Any] = dc_field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.message:
            self.message = message_for(self.code)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: v for k, v in data.items() if v not in (None, {}, "")}


class DomainError(Exception):
    """A refusal the user can act on; turned into the error shape by the API and pages."""

    status = 400

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        status: int | None = None,
        **params: Any,
    ) -> None:
        self.code = code
        self.message = message or message_for(code, **params)
        self.details = details or []
        if status is not None:
            self.status = status
        super().__init__(f"{code}: {self.message}")

    def as_payload(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class NotFound(DomainError):
    """Missing and forbidden look the same: both are this 404."""

    status = 404

    def __init__(self, code: str = "NOT_FOUND") -> None:
        super().__init__(code)


class RateLimited(DomainError):
    status = 429


define("NOT_FOUND", _("Không tìm thấy."))
define("FORBIDDEN", _("Bạn không có quyền thực hiện thao tác này."))
define("UNAUTHENTICATED", _("Bạn cần đăng nhập."))
define("VALIDATION_FAILED", _("Dữ liệu không hợp lệ."))
define("RATE_LIMITED", _("Bạn đã thử quá nhiều lần. Vui lòng thử lại sau {minutes} phút."))
define("PERSONAL_ID_MISSING", _("Thiếu số định danh cá nhân."))
define("PERSONAL_ID_INVALID", _("Số định danh cá nhân phải gồm đúng 12 chữ số."))
define("PERSONAL_ID_BIRTH_YEAR_MISMATCH", _("Năm sinh trong số định danh không khớp với ngày sinh."))
define("PERSONAL_ID_SEX_MISMATCH", _("Mã giới tính trong số định danh không khớp với giới tính."))
define("CARD_CODE_MISSING", _("Thiếu mã thẻ BHYT."))
define("CARD_CODE_INVALID", _("Mã thẻ BHYT phải gồm 15 ký tự: 2 chữ cái, mức hưởng, mã tỉnh và 10 chữ số."))
define("CARD_GROUP_UNKNOWN", _("Mã đối tượng trên thẻ BHYT không có trong danh mục."))
define("CARD_LEVEL_INVALID", _("Mức hưởng trên thẻ BHYT phải từ 1 đến 5."))
define("SOCIAL_INSURANCE_NUMBER_INVALID", _("Mã số BHXH phải gồm đúng 10 chữ số."))
define("FACILITY_CODE_INVALID", _("Mã cơ sở khám chữa bệnh phải gồm 5 chữ số."))
