"""Accounts: citizens (login by personal ID) and staff (login by username, with roles)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from soskdt.registry.models import Citizen, Facility, OrgUnit


class AccountKind(models.TextChoices):
    CITIZEN = "citizen", _("Công dân")
    STAFF = "staff", _("Cán bộ")


class Role(models.TextChoices):
    CLINICIAN = "clinician", _("Người hành nghề khám chữa bệnh")
    SUBMITTER = "submitter", _("Cán bộ gửi dữ liệu của cơ sở")
    UNIT_REPORTER = "unit_reporter", _("Cán bộ báo cáo của đơn vị")
    # Staff at a reception area who help patients install VNeID, link the BHYT card and open the book
    # (letter 310/TTYT-KHNV, point 3): they record each patient helped, for their own unit only.
    RECEPTION = "reception", _("Nhân viên tiếp đón")
    CENTRE_ADMIN = "centre_admin", _("Quản trị Trung tâm Y tế")
    PROVINCE_ADMIN = "province_admin", _("Quản trị Sở Y tế")
    AUDITOR = "auditor", _("Kiểm soát viên")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: object) -> User:
        user = self.model(username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("kind", AccountKind.STAFF)
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A login. Citizens log in with their personal ID as ``username``; staff with a chosen username."""

    username = models.CharField(_("tên đăng nhập"), max_length=150, unique=True)
    kind = models.CharField(_("loại tài khoản"), max_length=10, choices=AccountKind.choices)
    full_name = models.CharField(_("họ và tên"), max_length=255, blank=True)
    email = models.EmailField(_("thư điện tử"), blank=True)
    phone = models.CharField(_("số điện thoại đăng ký"), max_length=15, blank=True)
    citizen = models.OneToOneField(
        Citizen,
        verbose_name=_("công dân"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account",
    )
    assurance_level = models.PositiveSmallIntegerField(
        _("mức định danh"), null=True, blank=True, choices=[(1, _("Mức 1")), (2, _("Mức 2"))]
    )
    assurance_granted_on = models.DateField(_("ngày đạt mức định danh"), null=True, blank=True)
    app_version = models.CharField(_("phiên bản ứng dụng gần nhất"), max_length=20, blank=True)
    app_version_seen_at = models.DateTimeField(_("lần thấy phiên bản gần nhất"), null=True, blank=True)
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("đơn vị"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    facility = models.ForeignKey(
        Facility,
        verbose_name=_("cơ sở KCB"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    is_active = models.BooleanField(_("đang hoạt động"), default=True)
    is_staff = models.BooleanField(_("vào trang quản trị"), default=False)
    date_joined = models.DateTimeField(_("ngày tạo"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("tài khoản")
        verbose_name_plural = _("tài khoản")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="staff") | Q(citizen__isnull=False), name="identity_user_citizen_has_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name or self.username} ({self.username})"

    @property
    def is_citizen(self) -> bool:
        return self.kind == AccountKind.CITIZEN

    def has_role(self, role: str) -> bool:
        # Roles are prefetched on the request user (see identity.selectors.role_set) to avoid one query per check.
        cached = getattr(self, "_role_cache", None)
        if cached is None:
            cached = set(self.roles.values_list("role", flat=True))
            self._role_cache = cached
        return role in cached


class RoleAssignment(models.Model):
    """One role of a staff account; a person may hold several (clinician and unit reporter)."""

    user = models.ForeignKey(
        User, verbose_name=_("tài khoản"), on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField(_("vai trò"), max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(_("ngày cấp"), default=timezone.now)

    class Meta:
        verbose_name = _("vai trò")
        verbose_name_plural = _("vai trò")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="identity_role_user_role_uniq")]

    def __str__(self) -> str:
        return f"{self.user.username}: {self.role}"


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only a keyed digest of the secret is stored."""

    user = models.ForeignKey(
        User, verbose_name=_("tài khoản"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    # The public part of the token, used to find the row; the secret part is only ever stored as ``digest``.
    prefix = models.CharField(_("tiền tố"), max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("ngày tạo"), default=timezone.now)
    expires_at = models.DateTimeField(_("hết hạn lúc"))
    last_used_at = models.DateTimeField(_("lần dùng gần nhất"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("mã truy cập API")
        verbose_name_plural = _("mã truy cập API")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.username})"

    def is_usable_at(self, moment: dt.datetime) -> bool:
        return self.revoked_at is None and moment < self.expires_at
