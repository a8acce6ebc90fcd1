"""Password rules of the identity app (DOMAIN.md §3): 8–20 chars with upper, lower, digit and special."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from soskdt.core.errors import define

define("PASSWORD_TOO_SHORT", _l("Mật khẩu phải có từ 8 đến 20 ký tự."))
define("PASSWORD_TOO_LONG", _l("Mật khẩu phải có từ 8 đến 20 ký tự."))
define("PASSWORD_NEEDS_UPPER", _l("Mật khẩu phải có ít nhất một chữ in hoa."))
define("PASSWORD_NEEDS_LOWER", _l("Mật khẩu phải có ít nhất một chữ thường."))
define("PASSWORD_NEEDS_DIGIT", _l("Mật khẩu phải có ít nhất một chữ số."))
define("PASSWORD_NEEDS_SPECIAL", _l("Mật khẩu phải có ít nhất một ký tự đặc biệt."))


def password_problems(password: str) -> list[str]:
    """Return the codes of every rule ``password`` breaks (empty when it is acceptable)."""
    problems: list[str] = []
    if len(password) < 8:
        problems.append("PASSWORD_TOO_SHORT")
    if len(password) > 20:
        problems.append("PASSWORD_TOO_LONG")
    if not any(c.isupper() for c in password):
        problems.append("PASSWORD_NEEDS_UPPER")
    if not any(c.islower() for c in password):
        problems.append("PASSWORD_NEEDS_LOWER")
    if not any(c.isdigit() for c in password):
        problems.append("PASSWORD_NEEDS_DIGIT")
    if all(c.isalnum() for c in password):
        problems.append("PASSWORD_NEEDS_SPECIAL")
    return problems


class VneidPasswordValidator:
    """Django password validator enforcing the VNeID rules."""

    def validate(self, password: str, user: Any = None) -> None:
        from soskdt.core.errors import message_for

        problems = password_problems(password)
        if problems:
            raise ValidationError([ValidationError(message_for(code), code=code) for code in problems])

    def get_help_text(self) -> str:
        return _("Mật khẩu từ 8 đến 20 ký tự, có chữ in hoa, chữ thường, chữ số và ký tự đặc biệt.")
