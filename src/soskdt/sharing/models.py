"""Consent shares (*chia sẻ*), the clinician sessions they open, emergency access, notices, proxy renewals.

Written only by ``sharing.services``; rules in docs/sharing.md. Secrets (share codes) are stored as keyed
digests; the public ids in URLs are random and are not enough on their own to read anything.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from soskdt.healthbook.scope import CATEGORIES, Scope

#: A share is disabled after this many wrong codes typed on its QR page.
MAX_WRONG_TRIES = 10


class ShareGrant(models.Model):
    """A citizen's consent (*chia sẻ*) to let a clinician read part of their book for a while."""

    citizen = models.ForeignKey(
        "registry.Citizen", verbose_name=_("chủ sổ"), on_delete=models.PROTECT, related_name="shares"
    )
    created_by = models.ForeignKey(
        "identity.User",
        verbose_name=_("người tạo"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Chính chủ hoặc người đại diện hợp pháp."),
    )
    created_as = models.CharField(_("tạo với tư cách"), max_length=20)
    years = models.JSONField(_("các năm"), null=True, blank=True, help_text=_("Trống: mọi năm."))
    categories = models.JSONField(_("nhóm thông tin"), default=list)
    include_hiv = models.BooleanField(_("gồm thông tin liên quan HIV"), default=False)
    facility = models.ForeignKey(
        "registry.Facility",
        verbose_name=_("chỉ cho cơ sở KCB"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    public_id = models.CharField(_("mã công khai (QR)"), max_length=32, unique=True)
    code_digest = models.CharField(_("mã chia sẻ (đã băm)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("tạo lúc"))
    expires_at = models.DateTimeField(_("hết hạn lúc"))
    revoked_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True)
    wrong_tries = models.PositiveSmallIntegerField(_("số lần nhập sai mã"), default=0)
    disabled_at = models.DateTimeField(_("bị vô hiệu lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("chia sẻ sổ")
        verbose_name_plural = _("chia sẻ sổ")
        indexes = [models.Index(fields=["citizen", "-created_at"], name="sharing_grant_citizen_idx")]

    def __str__(self) -> str:
        return f"{self.citizen_id} {self.created_at:%Y-%m-%d %H:%M}"

    def is_live(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.disabled_at is None and self.expires_at > now

    def status(self, now: dt.datetime | None = None) -> str:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.disabled_at is not None:
            return "disabled"
        if self.expires_at <= now:
            return "expired"
        return "active"

    @property
    def category_labels(self) -> list[str]:
        return [str(CATEGORIES[c]) for c in CATEGORIES if c in self.categories]

    @property
    def scope(self) -> Scope:
        return Scope(
            years=frozenset(self.years) if self.years is not None else None,
            categories=frozenset(c for c in self.categories if c in CATEGORIES),
            include_hiv=self.include_hiv,
        )


class ShareSession(models.Model):
    """A share opened by one clinician at one facility: the only key to the clinician's book pages.

    It ends with its share (revoked, expired or disabled) or when ``ended_at`` is set.
    """

    share = models.ForeignKey(
        ShareGrant, verbose_name=_("chia sẻ"), on_delete=models.PROTECT, related_name="sessions"
    )
    clinician = models.ForeignKey(
        "identity.User", verbose_name=_("người hành nghề"), on_delete=models.PROTECT, related_name="+"
    )
    facility = models.ForeignKey(
        "registry.Facility", verbose_name=_("cơ sở KCB"), on_delete=models.PROTECT, related_name="+"
    )
    public_id = models.CharField(_("mã phiên"), max_length=32, unique=True)
    opened_at = models.DateTimeField(_("mở lúc"))
    ended_at = models.DateTimeField(_("kết thúc lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("phiên xem sổ được chia sẻ")
        verbose_name_plural = _("phiên xem sổ được chia sẻ")
        indexes = [models.Index(fields=["clinician", "-opened_at"], name="sharing_session_clin_idx")]

    def __str__(self) -> str:
        return f"{self.share_id} → {self.clinician_id}@{self.facility_id}"


class EmergencyReason(models.TextChoices):
    UNCONSCIOUS = "unconscious", _("Người bệnh bất tỉnh/không thể đồng ý")
    LIFE_THREATENING = "life_threatening", _("Cấp cứu đe dọa tính mạng")
    NO_REPRESENTATIVE = "no_representative", _("Không liên lạc được người đại diện")
    OTHER = "other", _("Khác")


class ReviewOutcome(models.TextChoices):
    JUSTIFIED = "justified", _("Hợp lý")
    NOT_JUSTIFIED = "not_justified", _("Không hợp lý")


class EmergencyAccess(models.Model):
    """A clinician opened a book without a share (*truy cập khẩn cấp*): 3 hours, reviewed afterwards."""

    public_id = models.CharField(_("mã truy cập"), max_length=32, unique=True)
    clinician = models.ForeignKey(
        "identity.User", verbose_name=_("người hành nghề"), on_delete=models.PROTECT, related_name="+"
    )
    facility = models.ForeignKey(
        "registry.Facility", verbose_name=_("cơ sở KCB"), on_delete=models.PROTECT, related_name="+"
    )
    citizen = models.ForeignKey(
        "registry.Citizen", verbose_name=_("người bệnh"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("lý do"), max_length=30, choices=EmergencyReason.choices)
    reason_text = models.TextField(_("mô tả lý do"))
    started_at = models.DateTimeField(_("bắt đầu lúc"))
    expires_at = models.DateTimeField(_("hết hạn lúc"))
    reviewed_by = models.ForeignKey(
        "identity.User",
        verbose_name=_("người rà soát"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("rà soát lúc"), null=True, blank=True)
    review_outcome = models.CharField(
        _("kết luận rà soát"), max_length=20, choices=ReviewOutcome.choices, blank=True
    )
    review_comment = models.TextField(_("nhận xét"), blank=True)

    class Meta:
        verbose_name = _("truy cập khẩn cấp")
        verbose_name_plural = _("truy cập khẩn cấp")
        indexes = [
            models.Index(fields=["facility", "-started_at"], name="sharing_emerg_facility_idx"),
            models.Index(
                fields=["facility"],
                name="sharing_emerg_unreviewed_idx",
                condition=Q(reviewed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.citizen_id} by {self.clinician_id} {self.started_at:%Y-%m-%d %H:%M}"

    def is_live(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at > (now or timezone.now())


class NoticeKind(models.TextChoices):
    CLINICIAN_READ = "clinician_read", _("Nhân viên y tế đã xem sổ")
    EMERGENCY_READ = "emergency_read", _("Truy cập khẩn cấp vào sổ")


class Notice(models.Model):
    """An in-app notice to the book's owner about one read by a clinician or in an emergency."""

    citizen = models.ForeignKey(
        "registry.Citizen", verbose_name=_("chủ sổ"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("loại"), max_length=20, choices=NoticeKind.choices)
    access_log = models.OneToOneField(
        "healthbook.AccessLog",
        verbose_name=_("dòng nhật ký"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    share = models.ForeignKey(
        ShareGrant,
        verbose_name=_("chia sẻ"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    emergency = models.ForeignKey(
        EmergencyAccess,
        verbose_name=_("truy cập khẩn cấp"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("tạo lúc"))
    read_at = models.DateTimeField(_("đã đọc lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("thông báo")
        verbose_name_plural = _("thông báo")
        indexes = [
            models.Index(fields=["citizen", "-id"], name="sharing_notice_citizen_idx"),
            models.Index(
                fields=["citizen"], name="sharing_notice_unread_idx", condition=Q(read_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.citizen_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class ProxyRenewal(models.Model):
    """A person aged 14 or over renews their former representative's access to their book (revocable).

    Children under 14 are managed by their representative; at 14 their own account takes over and the
    representative's access ends unless the person renews it here (docs/sharing.md, "Proxy").
    """

    person = models.ForeignKey(
        "registry.Citizen", verbose_name=_("người được đại diện"), on_delete=models.PROTECT, related_name="+"
    )
    representative = models.ForeignKey(
        "registry.Citizen", verbose_name=_("người đại diện"), on_delete=models.PROTECT, related_name="+"
    )
    renewed_by = models.ForeignKey(
        "identity.User", verbose_name=_("tài khoản gia hạn"), on_delete=models.PROTECT, related_name="+"
    )
    renewed_at = models.DateTimeField(_("gia hạn lúc"))
    revoked_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("gia hạn quyền đại diện")
        verbose_name_plural = _("gia hạn quyền đại diện")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "representative"],
                condition=Q(revoked_at__isnull=True),
                name="sharing_proxy_one_active_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.representative_id}"
