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
            target = _first_url("healthbook:home", "identity:citizen_home")
        else:
            target = _first_url("rollout:dashboard", "identity:staff_home")
        if target:
            return redirect(target)
    return render(request, "core/landing.html")
