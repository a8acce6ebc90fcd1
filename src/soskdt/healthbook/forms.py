"""Forms of the book's pages: the passcode keypad fields; the rules themselves live in ``healthbook.book``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from soskdt.core.errors import DomainError


def _digits(label: Any, *, autocomplete: str = "off", autofocus: bool = False) -> forms.CharField:
    # A numeric keypad on phones; masked like VNeID's passcode; no password-manager suggestions.
    attrs: dict[str, Any] = {
        "inputmode": "numeric",
        "pattern": "[0-9]*",
        "maxlength": "6",
        "autocomplete": autocomplete,
        "class": "digits",
    }
    if autofocus:
        attrs["autofocus"] = True
    widget = (
        forms.TextInput(attrs=attrs) if autocomplete == "one-time-code" else forms.PasswordInput(attrs=attrs)
    )
    return forms.CharField(label=label, max_length=6, strip=True, widget=widget)


class PasscodeForm(forms.Form):
    passcode = _digits(_("Passcode (6 chữ số)"), autofocus=True)


class NewPasscodeForm(forms.Form):
    passcode = _digits(_("Passcode mới (6 chữ số)"), autofocus=True)
    passcode_confirm = _digits(_("Nhập lại passcode"))


class ResetForm(forms.Form):
    otp = _digits(_("Mã OTP (6 chữ số)"), autocomplete="one-time-code", autofocus=True)
    passcode = _digits(_("Passcode mới (6 chữ số)"))
    passcode_confirm = _digits(_("Nhập lại passcode"))


def add_refusal(form: forms.Form, exc: DomainError, default_field: str | None = None) -> None:
    """Show a refusal on the field it names (``details[].field``), else on ``default_field`` or the form."""
    names = [d.get("field") for d in exc.details if isinstance(d, dict) and d.get("field")]
    field = next((n for n in names if n in form.fields), default_field)
    form.add_error(field, exc.message)
