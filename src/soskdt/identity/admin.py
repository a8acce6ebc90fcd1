"""Django admin for accounts (with their roles) and a read-only view of API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm, UsernameField
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from soskdt.identity import services
from soskdt.identity.models import AccountKind, ApiToken, RoleAssignment, User


class AccountCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("username", "kind", "full_name", "citizen", "org_unit", "facility")
        field_classes = {"username": UsernameField}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        citizen = data.get("citizen")
        if (
            data.get("kind") == AccountKind.CITIZEN
            and citizen
            and data.get("username") != citizen.personal_id
        ):
            # Citizens log in with their personal ID; any other username would make the account unusable.
            self.add_error(
                "username", _("Tài khoản công dân phải dùng số định danh cá nhân làm tên đăng nhập.")
            )
        return data


class AccountChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"username": UsernameField}


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    fields = ("role", "granted_at")
    verbose_name = _("vai trò")
    verbose_name_plural = _("vai trò")


@admin.register(User)
class AccountAdmin(DjangoUserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    inlines = [RoleAssignmentInline]
    list_display = ("username", "full_name", "kind", "assurance_level", "org_unit", "facility", "is_active")
    list_filter = ("kind", "assurance_level", "roles__role", "org_unit", "is_active", "is_staff")
    search_fields = ("username", "full_name", "citizen__personal_id")
    list_select_related = ("org_unit", "facility")
    ordering = ("username",)
    raw_id_fields = ("citizen",)
    readonly_fields = ("last_login", "date_joined", "app_version", "app_version_seen_at")
    filter_horizontal = ("groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("username", "password", "kind", "is_active")}),
        (_("Thông tin cá nhân"), {"fields": ("full_name", "email", "phone", "citizen")}),
        (_("Định danh điện tử"), {"fields": ("assurance_level", "assurance_granted_on")}),
        (_("Nơi công tác"), {"fields": ("org_unit", "facility")}),
        (
            _("Quyền quản trị hệ thống"),
            {
                "classes": ("collapse",),
                "fields": ("is_staff", "is_superuser", "groups", "user_permissions"),
            },
        ),
        (_("Hoạt động"), {"fields": ("last_login", "date_joined", "app_version", "app_version_seen_at")}),
    )

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "kind",
                    "full_name",
                    "citizen",
                    "org_unit",
                    "facility",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # Like Django's own user admin: the add page sets who and the password, roles come on the next page.
        return list(self.inlines) if obj is not None else []


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be looked at and revoked, never created or edited here; the digest is never shown."""

    list_display = ("prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "user__username", "user__full_name")
    list_select_related = ("user",)
    fields = ("prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    ordering = ("-created_at",)
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("identity.change_apitoken")

    @admin.action(description=_("Thu hồi các mã đã chọn"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            services.revoke_api_token(token=token)
        messages.success(request, _("Đã thu hồi %(count)d mã truy cập.") % {"count": len(tokens)})
