"""Why people have not finished a roll-out step (DOMAIN.md §3): stable codes with Vietnamese labels.

Used by the wallet (the reason a card link was rejected) and by the roll-out tracker (why a staff member
has no level-2 account, no linked card or no book yet). Every list ends with OTHER, which takes free text.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

LEVEL2: dict[str, Promise] = {
    "NO_SMARTPHONE": _("Không có điện thoại thông minh"),
    "PHONE_NO_NFC": _("Điện thoại cũ, không có NFC"),
    "NO_CHIP_ID": _("Chưa có CCCD gắn chip"),
    "NOT_REGISTERED_POLICE": _("Chưa đăng ký tại cơ quan Công an"),
    "AWAITING_APPROVAL": _("Đã nộp hồ sơ, đang chờ phê duyệt"),
    "APPROVED_NOT_ACTIVATED": _("Đã được phê duyệt nhưng chưa kích hoạt"),
    "PHONE_NOT_OWN": _("Số điện thoại không chính chủ, không nhận được OTP"),
    "FORGOT_CREDENTIALS": _("Quên mật khẩu hoặc passcode"),
    "LOW_DIGITAL_SKILLS": _("Người cao tuổi, hạn chế kỹ năng sử dụng điện thoại"),
    "UNDER_14": _("Dưới 14 tuổi"),
    "FOREIGNER": _("Người nước ngoài chưa có thẻ thường trú"),
    "REMOTE_AREA": _("Ở vùng sâu, vùng xa"),
    "LONG_ABSENCE": _("Vắng mặt dài ngày (thai sản, học tập, ốm đau)"),
    "DECLINED": _("Không đồng ý thực hiện"),
    "OTHER": _("Lý do khác"),
}

CARD: dict[str, Promise] = {
    "NO_LEVEL2": _("Chưa có tài khoản định danh điện tử mức 2"),
    "NO_CARD_OR_EXPIRED": _("Không có thẻ BHYT hoặc thẻ đã hết hạn"),
    "WRONG_NUMBER": _("Nhập sai mã số thẻ BHYT"),
    "WRONG_ISSUER": _("Chọn sai cơ quan cấp thẻ (BHXH Việt Nam / BHXH Công an nhân dân)"),
    "INSURANCE_NOT_MATCHED": _("Dữ liệu BHYT chưa được đối chiếu với số định danh cá nhân"),
    "PERSONAL_DATA_MISMATCH": _("Họ tên, ngày sinh hoặc giới tính trên thẻ BHYT khác với dữ liệu dân cư"),
    "ARMED_FORCES_CARD": _("Thẻ BHYT quân đội, công an chưa có trên hệ thống"),
    "REQUEST_PENDING": _("Yêu cầu tích hợp đang chờ xử lý"),
    "APP_OUTDATED": _("Ứng dụng VNeID cũ hơn phiên bản 2.0.4"),
    "OTHER": _("Lý do khác"),
}

BOOK: dict[str, Promise] = {
    "NO_LEVEL2": _("Chưa có tài khoản định danh điện tử mức 2"),
    "TERMS_NOT_ACCEPTED": _("Chưa đồng ý điều khoản sử dụng (Đồng ý sử dụng)"),
    "NO_VISIT_DATA": _("Chưa có dữ liệu khám chữa bệnh"),
    "OTHER": _("Lý do khác"),
}

CATEGORIES: dict[str, dict[str, Promise]] = {"level2": LEVEL2, "card": CARD, "book": BOOK}


def label(category: str, code: str) -> str:
    """The Vietnamese label of a reason (the code itself when unknown)."""
    return str(CATEGORIES.get(category, {}).get(code, code))


def choices(category: str) -> list[tuple[str, str]]:
    return [(code, str(text)) for code, text in CATEGORIES[category].items()]
