"""The landing page: sends each kind of account to its own home."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse


def _first_url(*names: str) -> str | None:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated:
        if getattr(user, "kind", "") == "citizen":
            # The VNeID-like home with its menu; "Hồ sơ sức khỏe" is one of its items.
            target = _first_url("identity:citizen_home")
        else:
            # The staff home lists what each role may open (the roll-out pages are for two roles only).
            target = _first_url("identity:staff_home")
        if target:
            return redirect(target)
    return render(request, "core/landing.html")
