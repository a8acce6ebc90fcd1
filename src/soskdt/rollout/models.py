"""The roll-out tracker (letter 310/TTYT-KHNV): campaign, staff roster, statuses, monthly report (Appendix 1).

Statuses are kept as a history of intervals (``StatusChange``): each row holds one value of one indicator for
one staff member from ``effective_from`` until ``effective_to`` (open while current). "The status as of a
period's end" is then a plain range filter that the database can aggregate, and every change keeps who
made it, when, the old and the new value.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from soskdt.core.models import TimeStampedModel
from soskdt.registry.models import OrgUnit

#: The seed letter's campaign (letter 310/TTYT-KHNV, 12/12/2024): the defaults of a new campaign.
SEED_CAMPAIGN_NAME = (
    "Đẩy mạnh triển khai cài đặt, kích hoạt và khai thác dữ liệu Sổ sức khỏe điện tử trên ứng dụng VNeID"
)
SEED_LETTER_REFERENCE = "310/TTYT-KHNV"
SEED_TARGET_DATE = dt.date(2024, 12, 22)
SEED_STARTS_ON = dt.date(2024, 12, 1)
#: "trước ngày 10 hằng tháng": a month's report is due before the 10th of the next month.
SEED_DEADLINE_DAY = 10
REMINDER_DAYS_BEFORE = 3


class Campaign(TimeStampedModel):
    """The campaign settings of a health centre: targets, target date, the monthly deadline day."""

    centre = models.OneToOneField(
        OrgUnit, verbose_name=_("trung tâm y tế"), on_delete=models.PROTECT, related_name="rollout_campaign"
    )
    name = models.CharField(_("tên đợt triển khai"), max_length=255, default=SEED_CAMPAIGN_NAME)
    letter_reference = models.CharField(_("số công văn"), max_length=60, default=SEED_LETTER_REFERENCE)
    starts_on = models.DateField(_("tháng báo cáo đầu tiên"), default=SEED_STARTS_ON)
    target_date = models.DateField(_("thời hạn đạt chỉ tiêu"), default=SEED_TARGET_DATE)
    target_level2_percent = models.PositiveSmallIntegerField(
        _("chỉ tiêu tài khoản mức 2 (% cán bộ)"), default=100
    )
    target_smartphone_percent = models.PositiveSmallIntegerField(
        _("chỉ tiêu cài đặt, tích hợp, sử dụng (% cán bộ có điện thoại thông minh)"), default=100
    )
    deadline_day = models.PositiveSmallIntegerField(
        _("hạn nộp báo cáo (trước ngày … của tháng sau)"), default=SEED_DEADLINE_DAY
    )
    reminder_days_before = models.PositiveSmallIntegerField(
        _("nhắc nhở trước hạn (ngày)"), default=REMINDER_DAYS_BEFORE
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("đợt triển khai")
        verbose_name_plural = _("đợt triển khai")
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline_day__gte=2) & Q(deadline_day__lte=28),
                name="rollout_campaign_deadline_day",
            ),
            models.CheckConstraint(
                condition=Q(target_level2_percent__lte=100) & Q(target_smartphone_percent__lte=100),
                name="rollout_campaign_targets_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.letter_reference} — {self.centre_id}"


class RosterEntry(TimeStampedModel):
    """A staff member on a unit's roster (*CBCCVC và người lao động*), active over a period."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("đơn vị"), on_delete=models.PROTECT, related_name="rollout_roster"
    )
    full_name = models.CharField(_("họ và tên"), max_length=255)
    personal_id = models.CharField(_("số định danh cá nhân"), max_length=12)
    position = models.CharField(_("chức vụ"), max_length=100, blank=True)
    department = models.CharField(_("khoa/phòng"), max_length=255, blank=True)
    has_smartphone = models.BooleanField(_("có điện thoại thông minh"), default=True)
    active_from = models.DateField(_("ngày bắt đầu"))
    active_to = models.DateField(_("ngày kết thúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("cán bộ trong danh sách")
        verbose_name_plural = _("danh sách cán bộ")
        ordering = ["unit", "department", "full_name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "personal_id"], name="rollout_roster_unit_person_uniq"),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
                name="rollout_roster_active_period",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "active_from"], name="rollout_roster_unit_from_idx"),
            models.Index(fields=["personal_id"], name="rollout_roster_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.personal_id})"

    def is_active_on(self, day: dt.date) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


class Indicator(models.TextChoices):
    """The four statuses tracked per staff member (letter 310, points 1 and 2)."""

    LEVEL2 = "level2", _("Tài khoản định danh điện tử VNeID mức 2")
    VNEID_INSTALLED = "vneid_installed", _("Cài đặt ứng dụng VNeID")
    BOOK_CREATED = "book_created", _("Khởi tạo Sổ SKĐT trên VNeID")
    CARD_LINKED = "card_linked", _("Tích hợp thẻ BHYT vào Sổ SKĐT")


#: The reason list (``soskdt.core.reasons.CATEGORIES``) of each indicator's "not yet".
REASON_CATEGORY: dict[str, str] = {
    Indicator.LEVEL2: "level2",
    Indicator.VNEID_INSTALLED: "level2",
    Indicator.BOOK_CREATED: "book",
    Indicator.CARD_LINKED: "card",
}


class StatusChange(models.Model):
    """One entered value of one indicator of one staff member, valid from ``effective_from`` to ``effective_to``.

    The rows of an (entry, indicator) never overlap: recording a new value closes the open row at the new
    row's ``effective_from``. ``old_*`` repeat the previous value so that the history reads as changes.
    """

    entry = models.ForeignKey(
        RosterEntry, verbose_name=_("cán bộ"), on_delete=models.CASCADE, related_name="status_changes"
    )
    indicator = models.CharField(_("chỉ tiêu"), max_length=20, choices=Indicator.choices)
    done = models.BooleanField(_("đã thực hiện"))
    reason_code = models.CharField(_("lý do chưa thực hiện"), max_length=30, blank=True)
    reason_text = models.CharField(_("lý do khác"), max_length=255, blank=True)
    old_done = models.BooleanField(_("giá trị cũ"), null=True, blank=True)
    old_reason_code = models.CharField(_("lý do cũ"), max_length=30, blank=True)
    old_reason_text = models.CharField(_("lý do khác (cũ)"), max_length=255, blank=True)
    effective_from = models.DateTimeField(_("có hiệu lực từ"))
    effective_to = models.DateTimeField(_("có hiệu lực đến"), null=True, blank=True)
    changed_at = models.DateTimeField(_("thời điểm ghi nhận"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người ghi nhận"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("thay đổi trạng thái")
        verbose_name_plural = _("lịch sử trạng thái")
        ordering = ["entry", "indicator", "effective_from", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "indicator"],
                condition=Q(effective_to__isnull=True),
                name="rollout_status_one_current",
            ),
        ]
        indexes = [
            models.Index(fields=["entry", "indicator", "effective_from"], name="rollout_status_entry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.indicator}={self.done} @ {self.effective_from:%Y-%m-%d}"


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Đang soạn")
    SUBMITTED = "submitted", _("Đã nộp")
    APPROVED = "approved", _("Đã duyệt")
    RETURNED = "returned", _("Trả lại")


class MonthlyReport(TimeStampedModel):
    """A unit's monthly report (Appendix 1) for one month: texts, workflow, and the numbers as submitted.

    Table I.1 and sections I.2–I.4 are computed from the roster, statuses and records; ``snapshot`` keeps
    them as they were at the (last) submission, so an approved, signed report never changes.
    """

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("đơn vị"), on_delete=models.PROTECT, related_name="rollout_reports"
    )
    period = models.DateField(_("tháng báo cáo"))  # the first day of the month
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    reception_note = models.TextField(_("triển khai khu vực tiếp đón (ghi chú)"), blank=True)
    training_note = models.TextField(_("công tác tập huấn (ghi chú)"), blank=True)
    printing_note = models.TextField(_("công tác in ấn, tuyên truyền (ghi chú)"), blank=True)
    difficulties = models.TextField(_("khó khăn, vướng mắc"), blank=True)
    proposals = models.TextField(_("đề xuất, kiến nghị"), blank=True)
    first_submitted_at = models.DateTimeField(_("nộp lần đầu lúc"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("nộp lúc"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_time = models.BooleanField(_("đúng hạn"), null=True, blank=True)
    decided_at = models.DateTimeField(_("duyệt/trả lại lúc"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    return_comment = models.TextField(_("ý kiến khi trả lại"), blank=True)
    snapshot = models.JSONField(_("số liệu khi nộp"), null=True, blank=True)

    class Meta:
        verbose_name = _("báo cáo tháng")
        verbose_name_plural = _("báo cáo tháng")
        ordering = ["-period", "unit"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "period"], name="rollout_report_unit_period_uniq"),
        ]
        indexes = [models.Index(fields=["period", "status"], name="rollout_report_period_idx")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.period:%m/%Y} ({self.status})"

    @property
    def is_locked(self) -> bool:
        return self.status in (ReportStatus.SUBMITTED, ReportStatus.APPROVED)

    @property
    def is_editable(self) -> bool:
        return self.status in (ReportStatus.DRAFT, ReportStatus.RETURNED)


class ReportAction(models.TextChoices):
    CREATED = "created", _("Tạo báo cáo")
    SAVED = "saved", _("Cập nhật nội dung")
    SUBMITTED = "submitted", _("Nộp báo cáo")
    APPROVED = "approved", _("Duyệt báo cáo")
    RETURNED = "returned", _("Trả lại báo cáo")
    REOPENED = "reopened", _("Mở lại báo cáo đã duyệt")


class ReportEvent(models.Model):
    """One step of a report's workflow: who did what, when, from which status to which, with a comment."""

    report = models.ForeignKey(MonthlyReport, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("thao tác"), max_length=12, choices=ReportAction.choices)
    from_status = models.CharField(_("từ trạng thái"), max_length=10, blank=True)
    to_status = models.CharField(_("sang trạng thái"), max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("thời điểm"), default=timezone.now)
    comment = models.TextField(_("ý kiến"), blank=True)

    class Meta:
        verbose_name = _("bước xử lý báo cáo")
        verbose_name_plural = _("nhật ký xử lý báo cáo")
        ordering = ["report", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.action} {self.from_status}→{self.to_status}"


class ReceptionAction(models.TextChoices):
    """What a patient was helped with at reception (letter 310, point 3)."""

    INSTALLED_APP = "installed_app", _("Đã cài ứng dụng")
    LINKED_CARD = "linked_card", _("Đã tích hợp thẻ BHYT")
    OPENED_BOOK = "opened_book", _("Đã mở sổ")


class ReceptionHelp(models.Model):
    """One patient helped at the reception area; an undone record is kept, marked, and not counted."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="rollout_reception")
    action = models.CharField(_("nội dung hướng dẫn"), max_length=20, choices=ReceptionAction.choices)
    helped_at = models.DateTimeField(_("thời điểm"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(_("hoàn tác lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("lượt hướng dẫn tại khu vực tiếp đón")
        verbose_name_plural = _("hướng dẫn tại khu vực tiếp đón")
        ordering = ["-helped_at", "-pk"]
        indexes = [models.Index(fields=["unit", "helped_at"], name="rollout_reception_unit_idx")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.action} {self.helped_at:%Y-%m-%d %H:%M}"


class TrainingSession(TimeStampedModel):
    """A training session on using the health book (letter 310, point 3: 100% of clinical staff trained)."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="rollout_trainings")
    held_on = models.DateField(_("ngày tập huấn"))
    topic = models.CharField(_("nội dung tập huấn"), max_length=255)
    attendees = models.ManyToManyField(
        RosterEntry, verbose_name=_("cán bộ tham dự"), related_name="trainings", blank=True
    )
    other_attendees = models.PositiveIntegerField(_("người tham dự khác (ngoài danh sách)"), default=0)
    note = models.TextField(_("ghi chú"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("buổi tập huấn")
        verbose_name_plural = _("buổi tập huấn")
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["unit", "held_on"], name="rollout_training_unit_idx")]

    def __str__(self) -> str:
        return f"{self.held_on:%d/%m/%Y} {self.topic}"


class PrintKind(models.TextChoices):
    """What was printed (letter 310, point 3, and its Appendix 2)."""

    BANNER = "banner", _("Banner Hướng dẫn sử dụng Sổ sức khỏe điện tử trên ứng dụng VNeID")
    CARD_GUIDE = "card_guide", _("Tài liệu Hướng dẫn tích hợp thẻ bảo hiểm y tế vào ví giấy tờ")
    POSTER = "poster", _("Áp phích, tờ rơi tuyên truyền")
    MEDIA = "media", _("Tuyên truyền trên loa, mạng xã hội")
    OTHER = "other", _("Khác")


class PrintingRecord(TimeStampedModel):
    """Printed material or a communication action, with where it was posted."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="rollout_printing")
    recorded_on = models.DateField(_("ngày thực hiện"))
    kind = models.CharField(_("loại"), max_length=20, choices=PrintKind.choices)
    quantity = models.PositiveIntegerField(_("số lượng"), default=1)
    colour = models.BooleanField(_("in màu"), default=True)
    location = models.CharField(_("nơi dán, đặt"), max_length=255, blank=True)
    note = models.CharField(_("ghi chú"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("in ấn, tuyên truyền")
        verbose_name_plural = _("in ấn, tuyên truyền")
        ordering = ["-recorded_on", "-pk"]
        indexes = [models.Index(fields=["unit", "recorded_on"], name="rollout_printing_unit_idx")]

    def __str__(self) -> str:
        return f"{self.recorded_on:%d/%m/%Y} {self.kind} ×{self.quantity}"


class CoverageFigure(TimeStampedModel):
    """Books integrated in VNeID and the population of an area on a day (e.g. the C06 figures of the letter)."""

    area = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="rollout_coverage")
    as_of = models.DateField(_("số liệu đến ngày"))
    books_integrated = models.PositiveBigIntegerField(_("số sổ SKĐT đã tích hợp"))
    population = models.PositiveBigIntegerField(_("dân số (nhân khẩu)"))
    source = models.CharField(_("nguồn số liệu"), max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("tỷ lệ tích hợp sổ SKĐT")
        verbose_name_plural = _("tỷ lệ tích hợp sổ SKĐT")
        ordering = ["-as_of", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(population__gt=0), name="rollout_coverage_population_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.as_of:%d/%m/%Y} {self.books_integrated}/{self.population}"


class ReminderSent(models.Model):
    """A reminder e-mailed to a unit's reporters about a month's report; at most one per unit and month."""

    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="rollout_reminders")
    period = models.DateField(_("tháng báo cáo"))
    sent_at = models.DateTimeField(_("gửi lúc"), default=timezone.now)
    recipients = models.TextField(_("người nhận"), blank=True)

    class Meta:
        verbose_name = _("nhắc nhở đã gửi")
        verbose_name_plural = _("nhắc nhở đã gửi")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "period"], name="rollout_reminder_unit_period_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.period:%m/%Y}"
