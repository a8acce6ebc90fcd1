"""Submissions of QĐ 130 XML as received, the per-visit outcome, and the facilities' API keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from soskdt.registry.models import Facility


class FacilityApiKey(models.Model):
    """A facility's key for POST /api/v1/submissions. Only an argon2 hash of the secret is stored."""

    facility = models.ForeignKey(
        Facility, verbose_name=_("cơ sở KCB"), on_delete=models.CASCADE, related_name="api_keys"
    )
    label = models.CharField(_("ghi chú"), max_length=100, blank=True)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("khóa API của cơ sở")
        verbose_name_plural = _("khóa API của cơ sở")

    def __str__(self) -> str:
        return f"{self.facility.code}: {self.prefix}…"


class SubmissionStatus(models.TextChoices):
    RECEIVED = "received", _("Đã nhận")
    PROCESSING = "processing", _("Đang xử lý")
    DONE = "done", _("Hoàn tất")
    FAILED = "failed", _("Không đọc được tệp")


class SubmissionSource(models.TextChoices):
    API = "api", _("API")
    CLI = "cli", _("Dòng lệnh")
    WEB = "web", _("Trang web")
    DEMO = "demo", _("Dữ liệu mẫu")
    REPROCESS = "reprocess", _("Xử lý lại")


class Submission(models.Model):
    """One file as received: archived compressed with its SHA-256, processed HOSO by HOSO."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(_("nguồn"), max_length=10, choices=SubmissionSource.choices)
    facility = models.ForeignKey(
        Facility,
        verbose_name=_("cơ sở KCB"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submissions",
    )
    api_key = models.ForeignKey(
        FacilityApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    sender_label = models.CharField(_("người gửi"), max_length=150, blank=True)
    file_name = models.CharField(_("tên tệp"), max_length=255)
    size = models.BigIntegerField(_("kích thước (byte)"))
    sha256 = models.CharField(max_length=64, db_index=True)
    archive_path = models.CharField(max_length=500)
    received_at = models.DateTimeField(_("thời điểm nhận"), default=timezone.now, db_index=True)
    status = models.CharField(
        _("trạng thái"), max_length=12, choices=SubmissionStatus.choices, default=SubmissionStatus.RECEIVED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reprocess_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reprocessings"
    )
    envelope_facility_code = models.CharField(_("mã cơ sở trong tệp"), max_length=20, blank=True)
    # Highest HOSO position whose outcome is committed: a restarted job resumes after it.
    last_index_done = models.PositiveIntegerField(default=0)
    # The run that owns the processing (a lease): every batch commits only while this is still its token, so
    # two runs of the same submission (a stuck worker and ``--resume``) can never both commit a batch.
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    visits_total = models.PositiveIntegerField(default=0)
    visits_accepted = models.PositiveIntegerField(default=0)
    visits_replaced = models.PositiveIntegerField(default=0)
    visits_unchanged = models.PositiveIntegerField(default=0)
    visits_rejected = models.PositiveIntegerField(default=0)
    visits_unlinked = models.PositiveIntegerField(default=0)
    file_errors = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("lượt gửi dữ liệu")
        verbose_name_plural = _("lượt gửi dữ liệu")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="ingestion_sub_status_idx"),
            models.Index(fields=["facility", "received_at"], name="ingestion_sub_facility_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.received_at:%d/%m/%Y %H:%M})"


class VisitOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("Đã nhận mới")
    REPLACED = "replaced", _("Đã thay thế bản trước")
    UNCHANGED = "unchanged", _("Không thay đổi")
    REJECTED = "rejected", _("Bị từ chối")


class SubmissionVisit(models.Model):
    """The outcome of one HOSO of a submission, with its errors and warnings."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="visits")
    index = models.PositiveIntegerField()
    ma_lk = models.CharField(max_length=100, blank=True)
    facility_code = models.CharField(max_length=5, blank=True)
    outcome = models.CharField(max_length=10, choices=VisitOutcome.choices)
    visit_id = models.BigIntegerField(null=True, blank=True)
    linked = models.BooleanField(default=False)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("kết quả từng hồ sơ")
        verbose_name_plural = _("kết quả từng hồ sơ")
        constraints = [
            models.UniqueConstraint(fields=["submission", "index"], name="ingestion_subvisit_index_uniq")
        ]
        indexes = [models.Index(fields=["submission", "outcome"], name="ingestion_subvisit_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.submission_id}#{self.index} {self.ma_lk}: {self.outcome}"
