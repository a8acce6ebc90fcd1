"""Vietnamese labels of the codes a visit carries, for the book's pages, API and PDF.

Copied from the QĐ 130 code lists (QĐ 4750, QĐ 824) and the national lists they point to, so that the
book never imports ``ingestion``. A code without a label is shown as sent.
"""

from __future__ import annotations

from functools import lru_cache

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from soskdt.healthbook.models import DischargeType, ServiceCategory, TreatmentOutcome, VisitType
from soskdt.registry.models import Sex

# DUONG_DUNG (QĐ 130 XML2): only the oral routes are listed here; other codes are shown as sent.
ROUTES: dict[str, Promise] = {
    "1.01": _("Uống"),
    "1.02": _("Ngậm"),
    "1.03": _("Nhai"),
    "1.04": _("Đặt dưới lưỡi"),
    "1.05": _("Ngậm dưới lưỡi"),
}

# MA_DANTOC: the 54 ethnic groups of QĐ 121-TCTK/PPCĐ (1979).
ETHNICITIES: dict[str, str] = {
    "01": "Kinh",
    "02": "Tày",
    "03": "Thái",
    "04": "Hoa",
    "05": "Khơ-me",
    "06": "Mường",
    "07": "Nùng",
    "08": "Hmông",
    "09": "Dao",
    "10": "Gia-rai",
    "11": "Ngái",
    "12": "Ê-đê",
    "13": "Ba-na",
    "14": "Xơ-đăng",
    "15": "Sán Chay",
    "16": "Cơ-ho",
    "17": "Chăm",
    "18": "Sán Dìu",
    "19": "Hrê",
    "20": "Mnông",
    "21": "Ra-glai",
    "22": "Xtiêng",
    "23": "Bru-Vân Kiều",
    "24": "Thổ",
    "25": "Giáy",
    "26": "Cơ-tu",
    "27": "Gié-Triêng",
    "28": "Mạ",
    "29": "Khơ-mú",
    "30": "Co",
    "31": "Tà-ôi",
    "32": "Chơ-ro",
    "33": "Kháng",
    "34": "Xinh-mun",
    "35": "Hà Nhì",
    "36": "Chu-ru",
    "37": "Lào",
    "38": "La Chí",
    "39": "La Ha",
    "40": "Phù Lá",
    "41": "La Hủ",
    "42": "Lự",
    "43": "Lô Lô",
    "44": "Chứt",
    "45": "Mảng",
    "46": "Pà Thẻn",
    "47": "Cờ Lao",
    "48": "Cống",
    "49": "Bố Y",
    "50": "Si La",
    "51": "Pu Péo",
    "52": "Brâu",
    "53": "Ơ Đu",
    "54": "Rơ-măm",
}

# MA_LYDO_CT (XML13).
REFERRAL_REASONS: dict[int, Promise] = {
    1: _("Đủ điều kiện chuyển tuyến theo quy định"),
    2: _("Vượt quá khả năng đáp ứng của cơ sở"),
    3: _("Theo yêu cầu của người bệnh hoặc người đại diện"),
}

# PP_VO_CAM (XML3).
ANAESTHESIA: dict[int, Promise] = {
    1: _("Gây mê"),
    2: _("Gây tê"),
    3: _("Châm tê"),
    4: _("Phương pháp khác"),
}


def _choice(choices: type, value: object) -> str:
    if value in (None, ""):
        return ""
    return _label(choices, value, get_language())


@lru_cache(maxsize=2048)
def _label(choices: type, value: object, language: str | None) -> str:
    # Translating a lazy label costs more than the rest of a list line: once per code and language.
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def visit_type(code: str | None) -> str:
    """*Loại khám chữa bệnh* (MA_LOAI_KCB)."""
    return _choice(VisitType, code)


def outcome(code: int | None) -> str:
    """*Kết quả điều trị* (KET_QUA_DTRI)."""
    return _choice(TreatmentOutcome, code)


def discharge_type(code: int | None) -> str:
    """*Loại ra viện* (MA_LOAI_RV)."""
    return _choice(DischargeType, code)


def sex(code: str | None) -> str:
    return _choice(Sex, code)


def category(code: str | None) -> str:
    return _choice(ServiceCategory, code)


def route(code: str | None) -> str:
    if not code:
        return ""
    label = ROUTES.get(code.strip())
    return str(label) if label is not None else code


def ethnicity(code: str | None) -> str:
    if not code:
        return ""
    return ETHNICITIES.get(code.strip(), code)


def referral_reason(code: int | None) -> str:
    if code is None:
        return ""
    label = REFERRAL_REASONS.get(code)
    return str(label) if label is not None else str(code)


def anaesthesia(code: int | None) -> str:
    if code is None:
        return ""
    label = ANAESTHESIA.get(code)
    return str(label) if label is not None else str(code)
