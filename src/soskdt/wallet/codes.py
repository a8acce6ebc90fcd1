"""The wallet's stable codes: refusals at submission and rejections after the register check.

Every code carries its roll-out reason (a key of ``soskdt.core.reasons.CARD``, DOMAIN.md §3) and a
Vietnamese explanation of what to do next. docs/wallet.md lists them; keep the two in step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from soskdt.core import reasons
from soskdt.core.errors import define, message_for
from soskdt.registry.models import CardIssuer

# --- refusals when the request is submitted (raised as DomainError, nothing is stored) ----------------

LEVEL2_REQUIRED = define(
    "LEVEL2_REQUIRED",
    _(
        "Tài khoản của bạn chưa được định danh điện tử mức 2 nên chưa tích hợp được thẻ BHYT. "
        "Vui lòng mang CCCD gắn chip đến Công an xã/phường nơi cư trú để đăng ký định danh mức 2, "
        "sau đó gửi lại yêu cầu."
    ),
)
APP_OUTDATED = define(
    "APP_OUTDATED",
    _("Vui lòng cập nhật ứng dụng lên phiên bản {min_version} trở lên (phiên bản đang dùng: {version})."),
)
WRONG_NUMBER = define(
    "WRONG_NUMBER",
    _(
        "Số thẻ BHYT chưa đúng. Nhập 10 kí tự cuối trên mã số thẻ BHYT (10 chữ số), "
        "hoặc nhập đủ mã thẻ 15 kí tự."
    ),
)
REQUEST_PENDING = define(
    "REQUEST_PENDING",
    _(
        "Bạn đang có một yêu cầu tích hợp thẻ BHYT chờ xác thực. "
        "Vui lòng chờ kết quả trước khi tạo yêu cầu mới."
    ),
)
ISSUER_INVALID = define(
    "ISSUER_INVALID", _("Chọn cơ quan cấp thẻ: BHXH Việt Nam hoặc BHXH Công an nhân dân.")
)
DOCUMENT_TYPE_UNSUPPORTED = define(
    "DOCUMENT_TYPE_UNSUPPORTED", _("Hiện chỉ tích hợp được Thẻ BHYT. Giấy phép lái xe sắp có.")
)

# The roll-out reason of each refusal.
REFUSAL_REASONS: dict[str, str] = {
    LEVEL2_REQUIRED: "NO_LEVEL2",
    APP_OUTDATED: "APP_OUTDATED",
    WRONG_NUMBER: "WRONG_NUMBER",
    REQUEST_PENDING: "REQUEST_PENDING",
    ISSUER_INVALID: "WRONG_ISSUER",
    DOCUMENT_TYPE_UNSUPPORTED: "OTHER",
}

# --- rejections after the check against the insurance register (stored on the request) ---------------

CARD_NOT_FOUND = define(
    "CARD_NOT_FOUND", _("Không tìm thấy thẻ BHYT có số {number} trong cơ sở dữ liệu BHYT.")
)
INSURANCE_NOT_MATCHED = define(
    "INSURANCE_NOT_MATCHED", _("Thẻ BHYT có số {number} không đứng tên số định danh cá nhân của bạn.")
)
PERSONAL_DATA_MISMATCH = define(
    "PERSONAL_DATA_MISMATCH", _("Thông tin {fields} trên thẻ BHYT khác với dữ liệu dân cư (CCCD).")
)
CARD_EXPIRED = define(
    "CARD_EXPIRED",
    _("Thẻ BHYT này không có giá trị sử dụng vào hôm nay (giá trị sử dụng từ {valid_from} đến {valid_to})."),
)
WRONG_ISSUER = define("WRONG_ISSUER", _("Thẻ BHYT này do {issuer} cấp, không phải {chosen}."))

# What to do, per (code, reason); a code with a single reason has a single advice.
_ADVICE: dict[tuple[str, str], Promise] = {
    (CARD_NOT_FOUND, "WRONG_NUMBER"): _(
        "Kiểm tra lại số in trên thẻ BHYT và nhập đúng 10 kí tự cuối trên mã số thẻ BHYT."
    ),
    (CARD_NOT_FOUND, "INSURANCE_NOT_MATCHED"): _(
        "Kiểm tra lại số in trên thẻ BHYT. Nếu đã nhập đúng, liên hệ cơ quan BHXH nơi cấp thẻ để đối chiếu "
        "thông tin thẻ BHYT với số định danh cá nhân."
    ),
    (CARD_NOT_FOUND, "ARMED_FORCES_CARD"): _(
        "Thẻ BHYT do BHXH Công an nhân dân cấp có thể chưa có trên hệ thống. Liên hệ bộ phận BHYT của đơn vị "
        "nơi bạn công tác; nếu thẻ do BHXH Việt Nam cấp, tạo mới yêu cầu và chọn lại Cơ quan cấp."
    ),
    (INSURANCE_NOT_MATCHED, "INSURANCE_NOT_MATCHED"): _(
        "Kiểm tra lại số thẻ. Nếu đây đúng là thẻ của bạn, liên hệ cơ quan BHXH nơi cấp thẻ để cập nhật "
        "số định danh cá nhân (CCCD) vào hồ sơ BHYT."
    ),
    (PERSONAL_DATA_MISMATCH, "PERSONAL_DATA_MISMATCH"): _(
        "Liên hệ cơ quan BHXH nơi cấp thẻ để điều chỉnh thông tin cho khớp với CCCD."
    ),
    (CARD_EXPIRED, "NO_CARD_OR_EXPIRED"): _(
        "Gia hạn thẻ BHYT tại cơ quan BHXH hoặc đại lý thu BHYT, rồi gửi lại yêu cầu khi thẻ có giá trị sử dụng."
    ),
    (WRONG_ISSUER, "WRONG_ISSUER"): _("Tạo mới yêu cầu và chọn Cơ quan cấp là “{issuer}”."),
}

REJECTION_REASONS: dict[str, tuple[str, ...]] = {}
for _code, _reason in _ADVICE:
    REJECTION_REASONS.setdefault(_code, ())
    REJECTION_REASONS[_code] += (_reason,)

# Labels of the personal-data fields compared with the population register.
FIELD_LABELS: dict[str, Promise] = {
    "full_name": _("họ và tên"),
    "birth_date": _("ngày sinh"),
    "sex": _("giới tính"),
}


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a request was refused or rejected, in words a citizen can act on."""

    code: str
    reason: str
    message: str
    advice: str
    fields: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def reason_label(self) -> str:
        return reasons.label("card", self.reason)


def _display_date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        return str(value)


def _issuer_label(value: str) -> str:
    return str(CardIssuer(value).label) if value in CardIssuer.values else value


def explain(code: str, reason: str, params: dict[str, Any] | None = None) -> Explanation:
    """Return the message and the advice of a rejection stored as ``code``/``reason``/``params``."""
    params = dict(params or {})
    fields = tuple(params.get("fields", ()))
    shown = {
        "number": params.get("number", ""),
        "fields": ", ".join(str(FIELD_LABELS.get(name, name)) for name in fields),
        "valid_from": _display_date(params.get("valid_from", "")),
        "valid_to": _display_date(params.get("valid_to", "")),
        "issuer": _issuer_label(params.get("issuer", "")),
        "chosen": _issuer_label(params.get("chosen", "")),
    }
    advice = _ADVICE.get((code, reason))
    advice_text = str(advice).format(**shown) if advice is not None else ""
    return Explanation(
        code=code,
        reason=reason,
        message=message_for(code, **shown),
        advice=advice_text,
        fields=fields,
        params=params,
    )
