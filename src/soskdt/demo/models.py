"""Bookkeeping of the demo data: which accounts play the personas, which staff account is which person."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from soskdt.core.models import TimeStampedModel


class DemoPersona(TimeStampedModel):
    """A demo login chosen by ``soskdt demo`` ("citizen", "clinician"…), looked up by key.

    One row is not a login: ``child``, the parent persona's child (``username`` holds its personal ID).
    """

    key = models.SlugField(_("vai mẫu"), max_length=40, unique=True)
    username = models.CharField(_("tên đăng nhập"), max_length=150)
    position = models.PositiveSmallIntegerField(_("thứ tự"), default=0)

    class Meta:
        verbose_name = _("tài khoản mẫu")
        verbose_name_plural = _("tài khoản mẫu")
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return f"{self.key}: {self.username}"


class DemoStaffLink(TimeStampedModel):
    """The register person behind a demo staff account (staff are citizens too).

    A staff member's staff login and their own citizen account are two accounts, and ``User.citizen`` is
    one-to-one, so the staff account cannot point at the person itself; this row keeps the link, with the
    position, for the roll-out roster that matches staff by personal ID.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("tài khoản cán bộ"),
        on_delete=models.CASCADE,
        related_name="demo_staff_link",
    )
    citizen = models.OneToOneField(
        "registry.Citizen",
        verbose_name=_("công dân"),
        on_delete=models.CASCADE,
        related_name="demo_staff_link",
    )
    position = models.CharField(_("chức danh"), max_length=100)

    class Meta:
        verbose_name = _("cán bộ mẫu")
        verbose_name_plural = _("cán bộ mẫu")

    def __str__(self) -> str:
        return f"{self.user_id} → {self.citizen_id} ({self.position})"
