"""The terms of use of the health book (*Điều khoản sử dụng*), versioned.

Consent (*Đồng ý sử dụng*) is recorded on the ``Book`` with the version and the time. Changing the
text means a new ``CURRENT_VERSION``: every book then asks for consent again before it opens.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CURRENT_VERSION = "2025.1"

TITLE: Promise = _("Điều khoản sử dụng Sổ sức khỏe điện tử")

# Short paragraphs a 60-year-old can read on a phone; the legal bases are named, not quoted.
PARAGRAPHS: tuple[Promise, ...] = (
    _(
        "Sổ sức khỏe điện tử hiển thị thông tin khám bệnh, chữa bệnh của bạn do các cơ sở khám bệnh, "
        "chữa bệnh gửi lên theo Quyết định 130/QĐ-BYT. Từ năm 2026, mỗi đợt khám được tải về dưới dạng "
        "PDF có giá trị như sổ giấy (Quyết định 31/QĐ-BYT)."
    ),
    _(
        "Đây là dữ liệu cá nhân nhạy cảm (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15). Chỉ bạn, người đại "
        "diện hợp pháp của bạn và người hành nghề khám chữa bệnh được bạn đồng ý chia sẻ mới xem được sổ."
    ),
    _(
        "Mỗi lần sổ được mở, xem hoặc tải về đều được ghi nhật ký (ai, khi nào, từ đâu, xem gì). Nhật ký "
        "được lưu ít nhất bằng thời gian lưu sổ."
    ),
    _(
        "Sổ được bảo vệ bằng passcode 6 chữ số do bạn đặt. Không chia sẻ passcode cho người khác. Nhập sai "
        "5 lần, sổ sẽ bị khóa tạm thời; bạn có thể đặt lại passcode bằng mã OTP gửi tới số điện thoại "
        "đã đăng ký."
    ),
    _(
        "Cha, mẹ hoặc người giám hộ quản lý sổ của trẻ dưới 14 tuổi bằng tài khoản của mình và mở sổ của "
        "trẻ bằng passcode của chính mình."
    ),
    _(
        "Thông tin trong sổ là thông tin do cơ sở khám chữa bệnh gửi. Nếu thấy sai sót, vui lòng liên hệ "
        "cơ sở đã khám cho bạn để được điều chỉnh."
    ),
)
