"""How a visit is laid out for people: labelled sections shared by the page and the PDF.

Values are shown as the facility sent them; times in Asia/Ho_Chi_Minh as ``dd/mm/yyyy HH:MM``; codes
with their Vietnamese label where the book knows it (``healthbook.labels``). Empty values are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from soskdt.core.translation import translator
from soskdt.healthbook import labels
from soskdt.healthbook.reads import VisitDetail


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)


def fmt_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")


def fmt_date(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def fmt_number(value: Decimal | int | None) -> str:
    """``12.500`` → ``12,5``; whole numbers without decimals (Vietnamese decimal comma)."""
    if value is None:
        return ""
    number = Decimal(value).normalize()
    text = format(number, "f")
    return text.replace(".", ",")


def fmt_qd130_dates(raw: str | None) -> str:
    """``20250101;20260101`` (as stored) → ``01/01/2025; 01/01/2026``."""
    parts = []
    for item in (raw or "").split(";"):
        item = item.strip()
        if len(item) >= 8 and item[:8].isdigit():
            parts.append(f"{item[6:8]}/{item[4:6]}/{item[:4]}")
        elif item:
            parts.append(item)
    return "; ".join(parts)


def _with_code(label: str, code: object) -> str:
    if code in (None, ""):
        return ""
    return f"{label} ({code})" if label and label != str(code) else str(code)


def _facility(detail: VisitDetail, code: str | None) -> str:
    if not code:
        return ""
    name = detail.facility_name(code)
    return f"{name} ({code})" if name else code


def _rows(*pairs: tuple[str, str | None]) -> list[tuple[str, str]]:
    return [(label, value) for label, value in pairs if value not in (None, "")]  # type: ignore[misc]


def administrative(detail: VisitDetail) -> Section:
    """*Thông tin hành chính*, as the facility sent it with the visit."""
    _ = translator()
    v = detail.visit
    birth = fmt_date(v.birth_date) if v.birth_date else (str(v.birth_year) if v.birth_year else "")
    return Section(
        "administrative",
        _("Thông tin hành chính"),
        _rows(
            (_("Họ và tên"), v.full_name),
            (_("Ngày sinh"), birth),
            (_("Giới tính"), labels.sex(v.sex)),
            (_("Số định danh cá nhân"), v.personal_id),
            (_("Mã người bệnh"), v.patient_code),
            (_("Dân tộc"), _with_code(labels.ethnicity(v.ethnicity_code), v.ethnicity_code)),
            (_("Mã quốc tịch"), v.nationality_code),
            (_("Mã nghề nghiệp"), v.occupation_code),
            (_("Địa chỉ"), v.address),
            (_("Điện thoại"), v.phone),
            (_("Mã thẻ BHYT"), (v.card_codes or "").replace(";", "; ")),
            (
                _("Nơi đăng ký KCB ban đầu"),
                "; ".join(
                    _facility(detail, c.strip()) for c in (v.primary_care_codes or "").split(";") if c.strip()
                ),
            ),
            (_("Thẻ có giá trị từ"), fmt_qd130_dates(v.card_valid_from)),
            (_("Thẻ có giá trị đến"), fmt_qd130_dates(v.card_valid_to)),
            (_("Nhóm máu"), v.blood_group),
            (_("Cân nặng (kg)"), (v.weight_kg or "").replace(".", ",")),
        ),
    )


def visit_section(detail: VisitDetail) -> Section:
    """*Đợt khám, chữa bệnh*: where, when, why, how it ended."""
    _ = translator()
    v = detail.visit
    return Section(
        "visit",
        _("Đợt khám, chữa bệnh"),
        _rows(
            (_("Cơ sở khám chữa bệnh"), _facility(detail, v.facility_code)),
            (_("Loại khám chữa bệnh"), _with_code(labels.visit_type(v.visit_type), v.visit_type)),
            (_("Thời điểm vào"), fmt_time(v.admitted_at)),
            (_("Thời điểm vào nội trú"), fmt_time(v.inpatient_at)),
            (_("Thời điểm ra"), fmt_time(v.discharged_at)),
            (_("Số ngày điều trị"), str(v.treatment_days) if v.treatment_days is not None else ""),
            (_("Lý do vào viện"), v.reason),
            (_("Lý do vào nội trú"), v.inpatient_reason),
            (_("Chẩn đoán vào viện"), v.admission_diagnosis),
            (_("Phương pháp điều trị"), v.treatment_method),
            (_("Kết quả điều trị"), detail.outcome_label),
            (_("Loại ra viện"), detail.discharge_type_label),
            (_("Chuyển từ"), _facility(detail, v.referred_from)),
            (_("Chuyển đến"), _facility(detail, v.referred_to)),
            (_("Số bệnh án"), v.medical_record_number),
            (_("Ngày tái khám"), fmt_date(v.follow_up_on) or fmt_qd130_dates(v.follow_up_dates)),
            (_("Lời dặn của bác sĩ"), v.advice),
        ),
    )


def record_summary_section(detail: VisitDetail) -> Section | None:
    """*Tóm tắt hồ sơ bệnh án* (XML8)."""
    _ = translator()
    s = detail.record_summary
    if s is None:
        return None
    return Section(
        "record_summary",
        _("Tóm tắt hồ sơ bệnh án"),
        _rows(
            (_("Thời điểm vào"), fmt_time(s.admitted_at)),
            (_("Thời điểm ra"), fmt_time(s.discharged_at)),
            (_("Chẩn đoán vào viện"), s.admission_diagnosis),
            (_("Chẩn đoán ra viện"), s.discharge_diagnosis),
            (_("Quá trình bệnh lý và diễn biến lâm sàng"), s.illness_course),
            (_("Tóm tắt kết quả cận lâm sàng"), s.key_results),
            (_("Phương pháp điều trị"), s.treatment_method),
            (_("Kết quả điều trị"), labels.outcome(s.outcome)),
            (_("Ghi chú"), s.note),
            (_("Ngày chứng từ"), fmt_date(s.document_date)),
        ),
    )


def discharge_section(detail: VisitDetail) -> Section | None:
    """*Giấy ra viện* (XML7)."""
    _ = translator()
    p = detail.discharge_paper
    if p is None:
        return None
    rest = ""
    if p.rest_days:
        rest = _("{days} ngày").format(days=p.rest_days)
        if p.rest_from and p.rest_to:
            rest += " " + _("(từ {start} đến {end})").format(
                start=fmt_date(p.rest_from), end=fmt_date(p.rest_to)
            )
    return Section(
        "discharge_paper",
        _("Giấy ra viện"),
        _rows(
            (_("Số lưu trữ"), p.archive_number),
            (_("Khoa ra viện"), p.department_code),
            (_("Thời điểm vào"), fmt_time(p.admitted_at)),
            (_("Thời điểm ra"), fmt_time(p.discharged_at)),
            (_("Chẩn đoán ra viện"), p.diagnosis),
            (_("Phương pháp điều trị"), p.treatment_method),
            (_("Ghi chú"), p.note),
            (_("Số ngày nghỉ ngoại trú"), rest),
            (_("Trưởng khoa"), p.department_head_name),
            (_("Ngày chứng từ"), fmt_date(p.document_date)),
        ),
    )


def referral_section(detail: VisitDetail) -> Section | None:
    """*Giấy chuyển tuyến* (XML13)."""
    _ = translator()
    r = detail.referral
    if r is None:
        return None
    codes = "; ".join(c for c in [r.main_icd or "", *(r.secondary_icds or "").split(";")] if c.strip())
    return Section(
        "referral",
        _("Giấy chuyển tuyến"),
        _rows(
            (_("Số giấy chuyển tuyến"), r.paper_number or r.book_number),
            (_("Nơi chuyển đi"), _facility(detail, r.from_facility_code)),
            (_("Nơi chuyển đến"), _facility(detail, r.to_facility_code)),
            (_("Dấu hiệu lâm sàng"), r.clinical_signs),
            (_("Chẩn đoán"), r.diagnosis),
            (_("Mã bệnh"), codes),
            (_("Quá trình bệnh lý và diễn biến lâm sàng"), r.illness_course),
            (_("Tóm tắt kết quả cận lâm sàng"), r.key_results),
            (_("Phương pháp điều trị"), r.treatment_method),
            (_("Thuốc đã dùng"), r.drugs_used),
            (_("Dịch vụ kỹ thuật đã dùng"), r.services_used),
            (_("Lý do chuyển tuyến"), labels.referral_reason(r.reason_code)),
            (_("Hướng điều trị"), r.recommended_treatment),
            (_("Phương tiện vận chuyển"), r.transport),
            (_("Người hộ tống"), ", ".join(x for x in (r.escort_name, r.escort_title) if x)),
        ),
    )


def follow_up_section(detail: VisitDetail) -> Section | None:
    """*Giấy hẹn khám lại* (XML14)."""
    _ = translator()
    f = detail.follow_up
    if f is None:
        return None
    codes = "; ".join(c for c in [f.main_icd or "", *(f.secondary_icds or "").split(";")] if c.strip())
    return Section(
        "follow_up",
        _("Giấy hẹn khám lại"),
        _rows(
            (_("Số giấy hẹn"), f.slip_number),
            (_("Hẹn khám lại lúc"), fmt_time(f.appointment_at)),
            (_("Tại"), _facility(detail, detail.visit.facility_code)),
            (_("Chẩn đoán"), f.diagnosis),
            (_("Mã bệnh"), codes),
            (_("Ngày chứng từ"), fmt_date(f.document_date)),
        ),
    )


def papers(detail: VisitDetail) -> list[Section]:
    """The papers of the visit that were sent, in the book's order."""
    found = [
        record_summary_section(detail),
        discharge_section(detail),
        referral_section(detail),
        follow_up_section(detail),
    ]
    return [section for section in found if section is not None]
