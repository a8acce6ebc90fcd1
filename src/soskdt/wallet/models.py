"""The document wallet (*Ví giấy tờ*): BHYT card-linking requests and the card each citizen has linked."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from soskdt.core.models import TimeStampedModel
from soskdt.identity.models import User
from soskdt.registry.models import CardIssuer, Citizen, InsuranceCard


class DocumentType(models.TextChoices):
    # VNeID also links driving licences; SoSKDT only links the BHYT card for now.
    BHYT = "BHYT", _("Thẻ BHYT")


class LinkStatus(models.TextChoices):
    PENDING = "pending", _("Đang xử lý")
    APPROVED = "approved", _("Thành công")
    REJECTED = "rejected", _("Không thành công")


class CardLinkRequest(TimeStampedModel):
    """One *Tạo mới yêu cầu* of *Tích hợp thông tin*: what the citizen typed and what the register said.

    ``rejection_code`` is the wallet's own stable code (``CARD_NOT_FOUND``, ``PERSONAL_DATA_MISMATCH``…);
    ``reason_code`` is its roll-out reason (a key of ``soskdt.core.reasons.CARD``), so that reports can
    count why people fail without knowing the wallet's finer codes.
    """

    account = models.ForeignKey(
        User, verbose_name=_("tài khoản"), on_delete=models.CASCADE, related_name="card_link_requests"
    )
    citizen = models.ForeignKey(
        Citizen, verbose_name=_("công dân"), on_delete=models.PROTECT, related_name="card_link_requests"
    )
    document_type = models.CharField(
        _("loại thông tin"), max_length=10, choices=DocumentType.choices, default=DocumentType.BHYT
    )
    typed_value = models.CharField(_("số thẻ đã nhập"), max_length=40)
    social_insurance_number = models.CharField(_("mã số BHXH"), max_length=10)
    card_code = models.CharField(_("mã thẻ BHYT đã nhập"), max_length=15, blank=True)
    issuer = models.CharField(_("cơ quan cấp"), max_length=10, choices=CardIssuer.choices)
    app_version = models.CharField(_("phiên bản ứng dụng"), max_length=20, blank=True)
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=LinkStatus.choices, default=LinkStatus.PENDING
    )
    rejection_code = models.CharField(_("mã lỗi"), max_length=40, blank=True)
    reason_code = models.CharField(_("lý do chưa tích hợp"), max_length=30, blank=True)
    # What the explanation needs (fields that differ, validity dates, the card's issuer); never the
    # register's values of another person.
    rejection_params = models.JSONField(_("chi tiết"), default=dict, blank=True)
    decided_at = models.DateTimeField(_("thời điểm có kết quả"), null=True, blank=True)
    card = models.ForeignKey(
        InsuranceCard,
        verbose_name=_("thẻ BHYT tìm thấy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="link_requests",
    )

    class Meta:
        verbose_name = _("yêu cầu tích hợp thẻ BHYT")
        verbose_name_plural = _("yêu cầu tích hợp thẻ BHYT")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "-created_at"], name="wallet_request_account_idx")]
        constraints = [
            # Two taps on "Gửi yêu cầu" must not open two requests: the database has the last word.
            models.UniqueConstraint(
                fields=["citizen"],
                condition=Q(status="pending"),
                name="wallet_request_one_pending_per_citizen",
            ),
            models.CheckConstraint(
                condition=(Q(status="pending") & Q(decided_at__isnull=True))
                | (Q(status="approved") & Q(decided_at__isnull=False) & Q(card__isnull=False))
                | (Q(status="rejected") & Q(decided_at__isnull=False) & ~Q(reason_code="")),
                name="wallet_request_decision_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} {self.typed_value} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == LinkStatus.PENDING


class LinkedCard(TimeStampedModel):
    """The BHYT card in a citizen's wallet. Linking another card closes this row; closed rows are history."""

    citizen = models.ForeignKey(
        Citizen, verbose_name=_("công dân"), on_delete=models.PROTECT, related_name="linked_cards"
    )
    card = models.ForeignKey(
        InsuranceCard, verbose_name=_("thẻ BHYT"), on_delete=models.PROTECT, related_name="linked_cards"
    )
    request = models.OneToOneField(
        CardLinkRequest,
        verbose_name=_("yêu cầu tích hợp"),
        on_delete=models.PROTECT,
        related_name="linked_card",
    )
    linked_at = models.DateTimeField(_("thời điểm tích hợp"))
    replaced_at = models.DateTimeField(_("thời điểm được thay thế"), null=True, blank=True)

    class Meta:
        verbose_name = _("thẻ BHYT đã tích hợp")
        verbose_name_plural = _("thẻ BHYT đã tích hợp")
        ordering = ["-linked_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["citizen"],
                condition=Q(replaced_at__isnull=True),
                name="wallet_linkedcard_one_current_per_citizen",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.citizen.personal_id}: {self.card.code}"

    @property
    def is_current(self) -> bool:
        return self.replaced_at is None
