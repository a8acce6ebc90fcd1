"""Visits (*đợt khám chữa bệnh*) of the health book, their line items and their replaced versions.

Columns are named in English; ``soskdt.healthbook.fieldmap`` says which QĐ 130 field each one holds.
Every field a facility sends is kept: as a column, or in the ``extra``/``raw_extras`` JSON when the
book has no use for it yet (decision 0004). Visits and items are written by ``services.record_visits``
only, never through the ORM row by row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from soskdt.core.models import TimeStampedModel
from soskdt.registry.models import Sex

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ExactDecimalField(models.DecimalField):  # type: ignore[type-arg]
    """A decimal kept exactly as sent: PostgreSQL ``numeric`` without precision or scale.

    QĐ 130 amounts carry up to 2 decimals and prices and quantities up to 3, but a fixed scale would
    round anything longer without a word; unconstrained ``numeric`` stores the value and its scale
    as the facility wrote them. ``max_digits``/``decimal_places`` only shape forms and SQLite.
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "postgresql":
            return "numeric"
        return super().db_type(connection)


def _money(verbose_name: StrOrPromise) -> ExactDecimalField:
    return ExactDecimalField(verbose_name, max_digits=18, decimal_places=3, null=True, blank=True)


def _code(verbose_name: StrOrPromise, max_length: int) -> models.CharField:
    return models.CharField(verbose_name, max_length=max_length, null=True, blank=True)


def _text(verbose_name: StrOrPromise) -> models.TextField:
    return models.TextField(verbose_name, null=True, blank=True)


def _small(verbose_name: StrOrPromise, **kwargs: object) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(verbose_name, null=True, blank=True, **kwargs)  # type: ignore[arg-type]


def _time(verbose_name: StrOrPromise) -> models.DateTimeField:
    return models.DateTimeField(verbose_name, null=True, blank=True)


def _date(verbose_name: StrOrPromise) -> models.DateField:
    return models.DateField(verbose_name, null=True, blank=True)


class LinkMethod(models.TextChoices):
    PERSONAL_ID = "personal_id", _("Số định danh cá nhân")
    SOCIAL_INSURANCE_NUMBER = "social_insurance_number", _("Mã số BHXH trên thẻ BHYT")
    MANUAL = "manual", _("Liên kết thủ công")
    NONE = "", _("Chưa liên kết")


class VisitType(models.TextChoices):
    # MA_LOAI_KCB (QĐ 824; 11–16 from QĐ 1804, 01/08/2026).
    EXAM = "01", _("Khám bệnh")
    OUTPATIENT_TREATMENT = "02", _("Điều trị ngoại trú")
    INPATIENT = "03", _("Điều trị nội trú")
    DAY_INPATIENT = "04", _("Điều trị nội trú ban ngày")
    CHRONIC_DRUGS = "05", _("Ngoại trú bệnh mạn tính dài ngày - có khám và lĩnh thuốc")
    STATION_STAY = "06", _("Điều trị lưu tại trạm y tế xã / phòng khám đa khoa khu vực")
    REFILL = "07", _("Nhận thuốc theo hẹn (không khám bệnh)")
    CHRONIC_SERVICES = "08", _("Ngoại trú bệnh mạn tính dài ngày - có khám, dịch vụ kỹ thuật và/hoặc thuốc")
    SHORT_INPATIENT = "09", _("Điều trị nội trú dưới 4 giờ")
    OTHER = "10", _("Các trường hợp khác")
    MOBILE = "11", _("Khám chữa bệnh lưu động")
    AT_HOME = "12", _("Khám chữa bệnh tại nhà")
    FAMILY_MEDICINE = "13", _("Y học gia đình")
    REMOTE = "14", _("Khám chữa bệnh từ xa")
    PERIODIC_CHECKUP = "15", _("Khám sức khỏe định kỳ")
    SCREENING = "16", _("Khám sàng lọc")


class TreatmentOutcome(models.IntegerChoices):
    CURED = 1, _("Khỏi")
    IMPROVED = 2, _("Đỡ")
    UNCHANGED = 3, _("Không thay đổi")
    WORSE = 4, _("Nặng hơn")
    DIED = 5, _("Tử vong")
    GRAVE_TAKEN_HOME = 6, _("Tiên lượng nặng xin về")
    UNDETERMINED = 7, _("Chưa xác định")
    DIED_OUTSIDE = 8, _("Tử vong ngoại viện")


class DischargeType(models.IntegerChoices):
    DISCHARGED = 1, _("Ra viện")
    REFERRED = 2, _("Chuyển tuyến theo yêu cầu chuyên môn")
    ABSCONDED = 3, _("Trốn viện")
    OWN_REQUEST = 4, _("Xin ra viện")
    REFERRED_ON_REQUEST = 5, _("Chuyển tuyến theo yêu cầu người bệnh")


class ServiceCategory(models.TextChoices):
    # The book's tabs (DOMAIN.md §4), derived from the cost group MA_NHOM (QĐ 5937 appendix 3).
    LAB = "lab", _("Xét nghiệm")
    IMAGING = "imaging", _("Chẩn đoán hình ảnh")
    FUNCTIONAL = "functional", _("Thăm dò chức năng")
    DRUG = "drug", _("Thuốc")
    BLOOD = "blood", _("Máu và chế phẩm máu")
    SURGERY = "surgery", _("Phẫu thuật")
    PROCEDURE = "procedure", _("Thủ thuật")
    SUPPLY = "supply", _("Vật tư y tế")
    TRANSPORT = "transport", _("Vận chuyển")
    EXAM = "exam", _("Khám bệnh")
    BED = "bed", _("Ngày giường")
    OTHER = "other", _("Khác")


CATEGORY_BY_COST_GROUP: dict[int, str] = {
    1: ServiceCategory.LAB,
    2: ServiceCategory.IMAGING,
    3: ServiceCategory.FUNCTIONAL,
    4: ServiceCategory.DRUG,
    5: ServiceCategory.DRUG,
    6: ServiceCategory.DRUG,
    7: ServiceCategory.BLOOD,
    17: ServiceCategory.BLOOD,
    8: ServiceCategory.SURGERY,
    18: ServiceCategory.PROCEDURE,
    10: ServiceCategory.SUPPLY,
    11: ServiceCategory.SUPPLY,
    12: ServiceCategory.TRANSPORT,
    13: ServiceCategory.EXAM,
    14: ServiceCategory.BED,
    15: ServiceCategory.BED,
    16: ServiceCategory.BED,
}


def category_for_cost_group(cost_group: object) -> str:
    """Return the book category of a QĐ 130 cost group (``MA_NHOM``); unknown groups are ``other``."""
    if type(cost_group) is not int:
        try:
            cost_group = int(str(cost_group).strip())
        except ValueError:
            return ServiceCategory.OTHER.value
    return str(CATEGORY_BY_COST_GROUP.get(cost_group, ServiceCategory.OTHER))


class Visit(TimeStampedModel):
    """One visit as the facility last sent it (QĐ 130 XML1), linked to a citizen when we know who."""

    facility = models.ForeignKey(
        "registry.Facility", verbose_name=_("cơ sở KCB"), on_delete=models.PROTECT, related_name="visits"
    )
    facility_code = models.CharField(_("mã cơ sở KCB"), max_length=5)
    ma_lk = models.CharField(_("mã liên kết (MA_LK)"), max_length=100)
    version = models.PositiveIntegerField(_("phiên bản"), default=1)
    content_hash = models.CharField(_("mã băm nội dung"), max_length=64)
    received_at = models.DateTimeField(_("thời điểm nhận"))
    submission_ref = models.CharField(_("mã lượt gửi"), max_length=64, blank=True)

    # The (citizen, visit_year, admitted_at) index serves the book's lists; no separate FK index.
    citizen = models.ForeignKey(
        "registry.Citizen",
        verbose_name=_("công dân"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
        db_index=False,
    )
    link_method = models.CharField(_("cách liên kết"), max_length=30, choices=LinkMethod.choices, blank=True)
    linked_at = models.DateTimeField(_("thời điểm liên kết"), null=True, blank=True)

    # Patient as the facility sent it (the register, not this, is the truth about the person).
    patient_code = _code(_("mã người bệnh"), 100)
    full_name = _code(_("họ và tên"), 255)
    personal_id = _code(_("số định danh/CCCD (như gửi)"), 15)
    birth_raw = _code(_("ngày sinh (như gửi)"), 12)
    birth_date = _date(_("ngày sinh"))
    birth_year = _small(_("năm sinh"))
    sex = models.CharField(_("giới tính"), max_length=1, choices=Sex.choices, null=True, blank=True)
    blood_group = _code(_("nhóm máu"), 5)
    nationality_code = _code(_("mã quốc tịch"), 3)
    ethnicity_code = _code(_("mã dân tộc"), 2)
    occupation_code = _code(_("mã nghề nghiệp"), 5)
    address = _code(_("địa chỉ"), 1024)
    province_code = _code(_("mã tỉnh cư trú"), 3)
    district_code = _code(_("mã huyện cư trú"), 3)
    commune_code = _code(_("mã xã cư trú"), 5)
    phone = _code(_("điện thoại"), 15)
    card_codes = _text(_("mã thẻ BHYT"))
    insurance_number = _code(_("mã số BHXH"), 10)
    primary_care_codes = _text(_("nơi đăng ký KCB ban đầu"))
    card_valid_from = _text(_("giá trị thẻ từ"))
    card_valid_to = _text(_("giá trị thẻ đến"))

    # The visit.
    visit_type = _code(_("loại khám chữa bệnh"), 2)
    patient_category = _code(_("mã đối tượng đến KCB"), 4)
    admitted_at = _time(_("thời điểm vào"))
    inpatient_at = _time(_("thời điểm vào nội trú"))
    discharged_at = _time(_("thời điểm ra"))
    visit_year = _small(_("năm khám"))
    reason = _text(_("lý do vào viện"))
    inpatient_reason = _text(_("lý do vào nội trú"))
    inpatient_reason_code = _code(_("mã lý do vào nội trú"), 5)
    admission_diagnosis = _text(_("chẩn đoán vào viện"))
    discharge_diagnosis = _text(_("chẩn đoán ra viện"))
    main_icd = _code(_("mã bệnh chính"), 7)
    secondary_icds = _code(_("mã bệnh kèm theo"), 100)
    traditional_icds = _code(_("mã bệnh y học cổ truyền"), 255)
    procedure_codes = _code(_("mã phẫu thuật, thủ thuật quốc tế"), 125)
    referred_from = _code(_("mã nơi đi"), 5)
    referred_to = _code(_("mã nơi đến"), 5)
    referral_paper_number = _code(_("số giấy chuyển tuyến"), 50)
    accident_code = _small(_("mã tai nạn"))
    treatment_days = models.PositiveIntegerField(_("số ngày điều trị"), null=True, blank=True)
    treatment_method = _text(_("phương pháp điều trị"))
    outcome = _small(_("kết quả điều trị"), choices=TreatmentOutcome.choices)
    discharge_type = _small(_("loại ra viện"), choices=DischargeType.choices)
    department_codes = _code(_("mã khoa"), 50)
    weight_kg = _code(_("cân nặng (kg)"), 6)
    follow_up_dates = _code(_("ngày tái khám (như gửi)"), 50)
    follow_up_on = _date(_("ngày tái khám"))
    advice = _text(_("lời dặn"))
    medical_record_number = _code(_("số bệnh án"), 100)

    # Totals (XML1), in đồng with the decimals the facility sent.
    total_drugs = _money(_("tổng tiền thuốc"))
    total_supplies = _money(_("tổng tiền vật tư y tế"))
    total_cost = _money(_("tổng chi"))
    total_insured_cost = _money(_("tổng chi trong phạm vi BHYT"))
    patient_self_pay = _money(_("người bệnh tự trả"))
    patient_copay = _money(_("người bệnh cùng chi trả"))
    insurance_paid = _money(_("BHYT thanh toán"))
    other_sources = _money(_("nguồn khác"))

    warnings = models.JSONField(_("cảnh báo"), default=list, blank=True)
    raw_extras = models.JSONField(_("trường khác (như gửi)"), null=True, blank=True)

    class Meta:
        verbose_name = _("đợt khám chữa bệnh")
        verbose_name_plural = _("đợt khám chữa bệnh")
        constraints = [
            models.UniqueConstraint(
                fields=["facility_code", "ma_lk"], name="healthbook_visit_facility_malk_uniq"
            ),
        ]
        indexes = [
            # Visits of one citizen for one year, in time order; also all of a citizen's visits.
            models.Index(fields=["citizen", "visit_year", "admitted_at"], name="hb_visit_book_idx"),
            models.Index(fields=["personal_id"], name="hb_visit_pid_idx"),
            models.Index(
                fields=["insurance_number"], name="hb_visit_pending_si_idx", condition=Q(citizen__isnull=True)
            ),
            models.Index(fields=["id"], name="hb_visit_pending_idx", condition=Q(citizen__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.facility_code}/{self.ma_lk} v{self.version}"

    @property
    def secondary_icd_list(self) -> list[str]:
        return [code.strip() for code in (self.secondary_icds or "").split(";") if code.strip()]


class VisitItem(models.Model):
    """Base of the rows that belong to one visit; ``line_no`` is the facility's STT.

    Line tables have no database constraint on ``visit``: checking it costs one lookup and one row lock
    per line, about two thirds of the load time (decision 0004). Lines are written only by
    ``record_visits``, in the transaction that writes their visit, and deleted with it (the ORM cascade
    still applies).
    """

    visit = models.ForeignKey(
        Visit, verbose_name=_("đợt khám"), on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    line_no = models.PositiveIntegerField(_("STT"))
    extra = models.JSONField(_("trường khác (như gửi)"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["visit", "id"]


class DrugLine(VisitItem):
    """A drug, blood or oxygen line (XML2)."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("đợt khám"), on_delete=models.CASCADE, related_name="drugs", db_constraint=False
    )
    drug_code = _code(_("mã thuốc"), 255)
    cost_group = _small(_("mã nhóm"))
    name = _code(_("tên thuốc"), 1024)
    unit = _code(_("đơn vị tính"), 50)
    strength = _code(_("hàm lượng"), 1024)
    route_code = _code(_("đường dùng"), 4)
    dosage_form = _code(_("dạng bào chế"), 1024)
    dose = _code(_("liều dùng"), 1024)
    usage = _code(_("cách dùng"), 1024)
    registration_number = _code(_("số đăng ký"), 255)
    tender_info = _code(_("thông tin thầu"), 50)
    scope = _small(_("phạm vi"))
    insurance_rate = _small(_("tỷ lệ thanh toán BHYT (%)"))
    quantity = _money(_("số lượng"))
    unit_price = _money(_("đơn giá"))
    amount = _money(_("thành tiền"))
    insured_amount = _money(_("thành tiền BHYT"))
    state_budget_support = _money(_("ngân sách nhà nước hỗ trợ"))
    foreign_aid_support = _money(_("viện trợ nước ngoài hỗ trợ"))
    domestic_aid_support = _money(_("viện trợ trong nước hỗ trợ"))
    other_support = _money(_("nguồn khác còn lại"))
    other_sources = _money(_("nguồn khác"))
    benefit_rate = _small(_("mức hưởng (%)"))
    patient_self_pay = _money(_("người bệnh tự trả"))
    patient_copay = _money(_("người bệnh cùng chi trả"))
    insurance_paid = _money(_("BHYT thanh toán"))
    department_code = _code(_("mã khoa"), 50)
    doctor_codes = _code(_("mã bác sĩ"), 255)
    service_codes = _code(_("mã dịch vụ"), 255)
    ordered_at = _time(_("thời điểm y lệnh"))
    administered_at = _time(_("thời điểm thực hiện y lệnh"))
    payment_method = _small(_("phương thức thanh toán"))
    funding_source = _small(_("nguồn chi trả"))

    class Meta(VisitItem.Meta):
        verbose_name = _("thuốc")
        verbose_name_plural = _("thuốc đã điều trị")

    def __str__(self) -> str:
        return f"{self.line_no}. {self.name or self.drug_code or ''}"


class ServiceLine(VisitItem):
    """A technical service, exam, bed-day, supply or transport line (XML3)."""

    visit = models.ForeignKey(
        Visit,
        verbose_name=_("đợt khám"),
        on_delete=models.CASCADE,
        related_name="services",
        db_constraint=False,
    )
    service_code = _code(_("mã dịch vụ"), 50)
    procedure_codes = _code(_("mã phẫu thuật, thủ thuật quốc tế"), 255)
    supply_code = _code(_("mã vật tư"), 255)
    cost_group = _small(_("mã nhóm"))
    category = models.CharField(_("phân loại"), max_length=20, choices=ServiceCategory.choices)
    supply_package = _code(_("gói vật tư"), 3)
    supply_name = _code(_("tên vật tư"), 1024)
    name = _code(_("tên dịch vụ"), 1024)
    fuel_code = _code(_("mã xăng dầu"), 20)
    unit = _code(_("đơn vị tính"), 50)
    scope = _small(_("phạm vi"))
    quantity = _money(_("số lượng"))
    unit_price = _money(_("đơn giá bệnh viện"))
    insured_unit_price = _money(_("đơn giá BHYT"))
    tender_info = _code(_("thông tin thầu"), 50)
    service_rate = _small(_("tỷ lệ thanh toán dịch vụ (%)"))
    insurance_rate = _small(_("tỷ lệ thanh toán BHYT (%)"))
    amount = _money(_("thành tiền"))
    insured_amount = _money(_("thành tiền BHYT"))
    supply_ceiling = _money(_("trần thanh toán vật tư"))
    benefit_rate = _small(_("mức hưởng (%)"))
    state_budget_support = _money(_("ngân sách nhà nước hỗ trợ"))
    foreign_aid_support = _money(_("viện trợ nước ngoài hỗ trợ"))
    domestic_aid_support = _money(_("viện trợ trong nước hỗ trợ"))
    other_support = _money(_("nguồn khác còn lại"))
    other_sources = _money(_("nguồn khác"))
    patient_self_pay = _money(_("người bệnh tự trả"))
    patient_copay = _money(_("người bệnh cùng chi trả"))
    insurance_paid = _money(_("BHYT thanh toán"))
    department_code = _code(_("mã khoa"), 50)
    bed_codes = _code(_("mã giường"), 50)
    doctor_codes = _code(_("mã bác sĩ chỉ định"), 255)
    performer_codes = _code(_("người thực hiện"), 255)
    icd_codes = _code(_("mã bệnh"), 100)
    traditional_icds = _code(_("mã bệnh y học cổ truyền"), 255)
    ordered_at = _time(_("thời điểm y lệnh"))
    performed_at = _time(_("thời điểm thực hiện"))
    result_at = _time(_("thời điểm có kết quả"))
    payment_method = _small(_("phương thức thanh toán"))
    anaesthesia = _small(_("phương pháp vô cảm"))
    body_site_code = _small(_("vị trí thực hiện"))
    machine_codes = _code(_("mã máy"), 1024)
    product_model = _code(_("mã hiệu sản phẩm"), 255)
    reused = _small(_("tái sử dụng"))

    class Meta(VisitItem.Meta):
        verbose_name = _("dịch vụ kỹ thuật, vật tư")
        verbose_name_plural = _("dịch vụ kỹ thuật, vật tư")

    def __str__(self) -> str:
        return f"{self.line_no}. {self.name or self.supply_name or self.service_code or ''}"


class Result(VisitItem):
    """A paraclinical result (XML4), joined to its service line by service code within the visit."""

    visit = models.ForeignKey(
        Visit,
        verbose_name=_("đợt khám"),
        on_delete=models.CASCADE,
        related_name="results",
        db_constraint=False,
    )
    # Lines and results are written and deleted together with their visit: no cascade, index or constraint.
    service_line = models.ForeignKey(
        ServiceLine,
        verbose_name=_("dịch vụ"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="results",
        db_index=False,
        db_constraint=False,
    )
    category = models.CharField(_("phân loại"), max_length=20, choices=ServiceCategory.choices, blank=True)
    service_code = _code(_("mã dịch vụ"), 15)
    indicator_code = _code(_("mã chỉ số"), 50)
    indicator_name = _code(_("tên chỉ số"), 255)
    value = _code(_("giá trị"), 50)
    unit = _code(_("đơn vị đo"), 50)
    description = _text(_("mô tả"))
    conclusion = _text(_("kết luận"))
    result_at = _time(_("thời điểm có kết quả"))
    reader_codes = _code(_("người đọc kết quả"), 255)

    class Meta(VisitItem.Meta):
        verbose_name = _("kết quả cận lâm sàng")
        verbose_name_plural = _("kết quả cận lâm sàng")

    def __str__(self) -> str:
        return f"{self.line_no}. {self.indicator_name or self.service_code or ''}"


class ClinicalNote(VisitItem):
    """A clinical progress note (XML5)."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("đợt khám"), on_delete=models.CASCADE, related_name="notes", db_constraint=False
    )
    progress = _text(_("diễn biến lâm sàng"))
    disease_stage = _text(_("giai đoạn bệnh"))
    consultation = _text(_("hội chẩn"))
    surgery = _text(_("phẫu thuật"))
    noted_at = _time(_("thời điểm"))
    author_codes = _code(_("người thực hiện"), 255)

    class Meta(VisitItem.Meta):
        verbose_name = _("diễn biến lâm sàng")
        verbose_name_plural = _("diễn biến lâm sàng")

    def __str__(self) -> str:
        return f"{self.line_no}. {self.noted_at or ''}"


class VisitDocument(models.Model):
    """Base of the single-record papers of a visit (at most one of each kind)."""

    visit = models.OneToOneField(
        Visit, verbose_name=_("đợt khám"), on_delete=models.CASCADE, related_name="+"
    )
    extra = models.JSONField(_("trường khác (như gửi)"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} — {self.visit_id}"  # type: ignore[attr-defined]


class DischargePaper(VisitDocument):
    """The discharge certificate (XML7)."""

    visit = models.OneToOneField(
        Visit, verbose_name=_("đợt khám"), on_delete=models.CASCADE, related_name="discharge_paper"
    )
    archive_number = _code(_("số lưu trữ"), 200)
    department_code = _code(_("mã khoa ra viện"), 200)
    admitted_at = _time(_("thời điểm vào"))
    discharged_at = _time(_("thời điểm ra"))
    diagnosis = _text(_("chẩn đoán ra viện"))
    treatment_method = _text(_("phương pháp điều trị"))
    note = _text(_("ghi chú"))
    department_head_name = _code(_("trưởng khoa"), 255)
    document_date = _date(_("ngày chứng từ"))
    rest_days = _small(_("số ngày nghỉ"))
    rest_from = _date(_("nghỉ ngoại trú từ ngày"))
    rest_to = _date(_("nghỉ ngoại trú đến ngày"))

    class Meta:
        verbose_name = _("giấy ra viện")
        verbose_name_plural = _("giấy ra viện")


class RecordSummary(VisitDocument):
    """The medical-record summary (XML8)."""

    visit = models.OneToOneField(
        Visit, verbose_name=_("đợt khám"), on_delete=models.CASCADE, related_name="record_summary"
    )
    visit_type = _code(_("loại khám chữa bệnh"), 2)
    admitted_at = _time(_("thời điểm vào"))
    discharged_at = _time(_("thời điểm ra"))
    admission_diagnosis = _text(_("chẩn đoán vào viện"))
    discharge_diagnosis = _text(_("chẩn đoán ra viện"))
    illness_course = _text(_("quá trình bệnh lý và diễn biến lâm sàng"))
    key_results = _text(_("tóm tắt kết quả cận lâm sàng"))
    treatment_method = _text(_("phương pháp điều trị"))
    outcome = _small(_("kết quả điều trị"), choices=TreatmentOutcome.choices)
    note = _text(_("ghi chú"))
    document_date = _date(_("ngày chứng từ"))

    class Meta:
        verbose_name = _("tóm tắt hồ sơ bệnh án")
        verbose_name_plural = _("tóm tắt hồ sơ bệnh án")


class Referral(VisitDocument):
    """The referral letter (XML13)."""

    visit = models.OneToOneField(
        Visit, verbose_name=_("đợt khám"), on_delete=models.CASCADE, related_name="referral"
    )
    file_number = _code(_("số hồ sơ"), 50)
    book_number = _code(_("số chuyển tuyến"), 50)
    paper_number = _code(_("số giấy chuyển tuyến"), 50)
    from_facility_code = _code(_("mã nơi đi"), 5)
    to_facility_code = _code(_("mã nơi đến"), 5)
    clinical_signs = _text(_("dấu hiệu lâm sàng"))
    diagnosis = _text(_("chẩn đoán"))
    illness_course = _text(_("quá trình bệnh lý và diễn biến lâm sàng"))
    key_results = _text(_("tóm tắt kết quả cận lâm sàng"))
    treatment_method = _text(_("phương pháp điều trị"))
    main_icd = _code(_("mã bệnh chính"), 7)
    secondary_icds = _code(_("mã bệnh kèm theo"), 100)
    services_used = _code(_("dịch vụ kỹ thuật đã dùng"), 1024)
    drugs_used = _code(_("thuốc đã dùng"), 1024)
    discharge_type = _small(_("loại ra viện"), choices=DischargeType.choices)
    reason_code = _small(_("lý do chuyển tuyến"))
    recommended_treatment = _text(_("hướng điều trị"))
    transport = _code(_("phương tiện vận chuyển"), 255)
    escort_name = _code(_("người hộ tống"), 255)
    escort_title = _code(_("chức danh người hộ tống"), 255)
    doctor_codes = _code(_("mã bác sĩ"), 255)

    class Meta:
        verbose_name = _("giấy chuyển tuyến")
        verbose_name_plural = _("giấy chuyển tuyến")


class FollowUp(VisitDocument):
    """The follow-up appointment slip (XML14)."""

    visit = models.OneToOneField(
        Visit, verbose_name=_("đợt khám"), on_delete=models.CASCADE, related_name="follow_up"
    )
    slip_number = _code(_("số giấy hẹn"), 50)
    appointment_at = _time(_("thời điểm hẹn khám lại"))
    diagnosis = _text(_("chẩn đoán"))
    main_icd = _code(_("mã bệnh chính"), 7)
    secondary_icds = _code(_("mã bệnh kèm theo"), 100)
    doctor_codes = _code(_("mã bác sĩ"), 255)
    document_date = _date(_("ngày chứng từ"))

    class Meta:
        verbose_name = _("giấy hẹn khám lại")
        verbose_name_plural = _("giấy hẹn khám lại")


class RawDocument(models.Model):
    """Another table of the visit kept as sent (XML6, XML9, XML10, XML11, XML15 …)."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("đợt khám"), on_delete=models.CASCADE, related_name="raw_documents"
    )
    table = models.CharField(_("bảng"), max_length=10)
    payload = models.JSONField(_("nội dung"))

    class Meta:
        verbose_name = _("bảng khác")
        verbose_name_plural = _("bảng khác")
        constraints = [
            models.UniqueConstraint(fields=["visit", "table"], name="healthbook_rawdoc_visit_table_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.table} — {self.visit_id}"


class VisitVersion(models.Model):
    """A replaced version of a visit, with everything it held, so it can still be shown (TT 48/2017)."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("đợt khám"), on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField(_("phiên bản"))
    submission_ref = models.CharField(_("mã lượt gửi"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("thời điểm nhận"))
    replaced_at = models.DateTimeField(_("thời điểm bị thay thế"))
    content_hash = models.CharField(_("mã băm nội dung"), max_length=64)
    payload = models.JSONField(_("nội dung"))

    class Meta:
        verbose_name = _("phiên bản cũ")
        verbose_name_plural = _("phiên bản cũ")
        ordering = ["visit", "version"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "version"], name="healthbook_visitversion_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.visit_id} v{self.version}"


# --- the citizen's book: consent, passcode, unlocks, resets, access log ---------------------------------
# Written by ``healthbook.book`` (consent, passcode, sync) and ``healthbook.access`` (the log); see
# docs/healthbook.md. Secrets are only ever stored hashed.


class ConsentActor(models.TextChoices):
    CITIZEN = "citizen", _("Chính chủ")
    REPRESENTATIVE = "representative", _("Người đại diện hợp pháp")


class Book(TimeStampedModel):
    """A citizen's health book (*Sổ sức khỏe điện tử*): consent to the terms, passcode, last sync.

    Visits linked to the citizen show in the book only once a sync (*Cập nhật dữ liệu*) has seen them:
    those with ``linked_at <= last_synced_at``. A represented person's book has no passcode of its own:
    it opens with the passcode of the representative who opens it.
    """

    citizen = models.OneToOneField(
        "registry.Citizen", verbose_name=_("công dân"), on_delete=models.PROTECT, related_name="book"
    )
    terms_version = models.CharField(_("phiên bản điều khoản đã đồng ý"), max_length=20, blank=True)
    terms_accepted_at = models.DateTimeField(_("thời điểm đồng ý điều khoản"), null=True, blank=True)
    terms_accepted_by = models.ForeignKey(
        "identity.User",
        verbose_name=_("tài khoản đồng ý"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    terms_accepted_as = models.CharField(
        _("đồng ý với tư cách"), max_length=20, choices=ConsentActor.choices, blank=True
    )
    passcode_hash = models.CharField(_("passcode (đã băm)"), max_length=255, blank=True)
    passcode_set_at = models.DateTimeField(_("thời điểm đặt passcode"), null=True, blank=True)
    activated_at = models.DateTimeField(_("thời điểm kích hoạt"), null=True, blank=True)
    last_synced_at = models.DateTimeField(_("lần cập nhật dữ liệu gần nhất"), null=True, blank=True)

    class Meta:
        verbose_name = _("sổ sức khỏe điện tử")
        verbose_name_plural = _("sổ sức khỏe điện tử")

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} — {self.citizen_id}"

    @property
    def has_passcode(self) -> bool:
        return bool(self.passcode_hash)


class BookToken(models.Model):
    """A short-lived token proving that ``user`` entered the passcode for ``book`` (API ``X-Book-Token``).

    Only a keyed digest of the secret is stored, like identity's API tokens (decision 0003).
    """

    book = models.ForeignKey(Book, verbose_name=_("sổ"), on_delete=models.CASCADE, related_name="tokens")
    user = models.ForeignKey(
        "identity.User", verbose_name=_("tài khoản"), on_delete=models.CASCADE, related_name="book_tokens"
    )
    prefix = models.CharField(_("tiền tố"), max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("ngày tạo"))
    expires_at = models.DateTimeField(_("hết hạn lúc"))
    revoked_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("mã mở sổ")
        verbose_name_plural = _("mã mở sổ")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id} → {self.book_id})"


class PasscodeReset(models.Model):
    """A one-time code sent by SMS to reset a forgotten passcode; hashed, short-lived, few tries."""

    user = models.ForeignKey(
        "identity.User", verbose_name=_("tài khoản"), on_delete=models.CASCADE, related_name="passcode_resets"
    )
    book = models.ForeignKey(Book, verbose_name=_("sổ"), on_delete=models.CASCADE, related_name="resets")
    otp_hash = models.CharField(_("mã OTP (đã băm)"), max_length=255)
    phone = models.CharField(_("gửi tới số"), max_length=15)
    created_at = models.DateTimeField(_("ngày tạo"))
    expires_at = models.DateTimeField(_("hết hạn lúc"))
    attempts = models.PositiveSmallIntegerField(_("số lần nhập"), default=0)
    used_at = models.DateTimeField(_("đã dùng lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("yêu cầu đặt lại passcode")
        verbose_name_plural = _("yêu cầu đặt lại passcode")
        indexes = [models.Index(fields=["user", "-created_at"], name="hb_reset_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class ActorKind(models.TextChoices):
    CITIZEN = "citizen", _("Chính chủ")
    REPRESENTATIVE = "representative", _("Người đại diện hợp pháp")
    CLINICIAN = "clinician", _("Người hành nghề khám chữa bệnh")
    EMERGENCY = "emergency", _("Truy cập khẩn cấp")
    OPERATOR = "operator", _("Cán bộ vận hành")


class AccessOutcome(models.TextChoices):
    SUCCESS = "success", _("Thành công")
    DENIED = "denied", _("Bị từ chối")


class AccessChannel(models.TextChoices):
    PAGE = "page", _("Trang web")
    API = "api", _("Ứng dụng (API)")


GENESIS_HASH = "0" * 64


class AccessLog(models.Model):
    """One transaction on a book, reads included (CV 365/2025): who, whose book, what, when, from where.

    Append-only. Rows of one book owner form a SHA-256 chain (``hash = sha256(prev_hash + canonical row)``,
    ``healthbook.access``): a removed or edited row breaks it. The unique (owner, prev_hash) refuses a fork.
    Written only through ``healthbook.access`` (``record_access``; the reads add ``new_row`` to their batch).
    """

    owner = models.ForeignKey(
        "registry.Citizen",
        verbose_name=_("chủ sổ"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    actor = models.ForeignKey(
        "identity.User",
        verbose_name=_("người truy cập"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_kind = models.CharField(_("tư cách"), max_length=20, choices=ActorKind.choices)
    facility = models.ForeignKey(
        "registry.Facility",
        verbose_name=_("cơ sở KCB"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("thao tác"), max_length=40)
    target = models.CharField(_("đối tượng"), max_length=64, blank=True)
    outcome = models.CharField(_("kết quả"), max_length=10, choices=AccessOutcome.choices)
    at = models.DateTimeField(_("thời điểm"))
    ip_address = models.GenericIPAddressField(_("địa chỉ IP"), null=True, blank=True)
    user_agent = models.CharField(_("trình duyệt / ứng dụng"), max_length=200, blank=True)
    channel = models.CharField(_("kênh"), max_length=10, choices=AccessChannel.choices)
    prev_hash = models.CharField(_("mã băm dòng trước"), max_length=64)
    hash = models.CharField(_("mã băm"), max_length=64)

    class Meta:
        verbose_name = _("nhật ký truy cập sổ")
        verbose_name_plural = _("nhật ký truy cập sổ")
        indexes = [models.Index(fields=["owner", "-id"], name="hb_accesslog_owner_idx")]
        constraints = [
            models.UniqueConstraint(fields=["owner", "prev_hash"], name="hb_accesslog_chain_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("access log rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("access log rows are append-only")
