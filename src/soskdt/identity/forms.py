"""Login forms of the pages; the checks themselves live in services.check_credentials."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from soskdt.core.errors import DomainError
from soskdt.identity import services
from soskdt.identity.models import AccountKind, User


class CitizenLoginForm(forms.Form):
    """Personal ID and password; only citizen accounts get in."""

    kind: str = AccountKind.CITIZEN

    username = forms.CharField(
        label=_("Số định danh cá nhân"),
        max_length=150,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "username",
                "inputmode": "numeric",
                "autocapitalize": "none",
                "autofocus": True,
            }
        ),
    )
    password = forms.CharField(
        label=_("Mật khẩu"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        username, password = data.get("username"), data.get("password")
        if username and password:
            try:
                self.user = services.check_credentials(
                    request=self.request, username=username, password=password, kind=self.kind
                )
            except DomainError as exc:
                raise ValidationError(exc.message, code=exc.code) from exc
        return data


class StaffLoginForm(CitizenLoginForm):
    """Username and password; only staff accounts get in."""

    kind = AccountKind.STAFF

    username = forms.CharField(
        label=_("Tên đăng nhập"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}
        ),
    )
