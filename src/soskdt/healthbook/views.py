"""Pages of the health book, in the order of the letter's Appendix 2.

*Hồ sơ sức khỏe* → *Hồ sơ sức khỏe điện tử* → (first use) terms, *Đồng ý sử dụng*, set the passcode →
passcode → *Cập nhật dữ liệu* → *Năm* → the year's visits → *Chi tiết đợt khám* and its tabs.
Books are named in URLs by their owner's personal ID (the viewer's own, or a person they represent).
The pages call the same services and reads as the API; the passcode gate of a page is a per-book
"unlocked until" marker in the session, set by the passcode page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from soskdt.core import throttle
from soskdt.core.errors import DomainError, NotFound
from soskdt.healthbook import book as services
from soskdt.healthbook import present, reads, selectors, terms
from soskdt.healthbook.access import AccessContext, context_from
from soskdt.healthbook.forms import NewPasscodeForm, PasscodeForm, ResetForm, add_refusal
from soskdt.healthbook.selectors import BookAccess
from soskdt.identity.auth import citizen_required
from soskdt.identity.models import User

SESSION_KEY = "healthbook.unlocked"
RESET_SESSION_KEY = "healthbook.reset_sent_to"
VISITS_PER_PAGE = 20
TAB_VISITS_PER_PAGE = 10

_TO_FIRST_USE = {services.NOT_ACTIVATED, services.TERMS_VERSION_OUTDATED, services.TERMS_NOT_ACCEPTED}

R = TypeVar("R")
T = TypeVar("T")
View = Callable[..., HttpResponse]


# --- helpers ------------------------------------------------------------------------------------------


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _context(request: HttpRequest) -> AccessContext:
    return context_from(request, "page")


def _markers(request: HttpRequest) -> dict[str, float]:
    stored = request.session.get(SESSION_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


def unlocked_until(request: HttpRequest, citizen_id: int) -> float | None:
    """When the page session's unlock of this person's book ends (epoch seconds), if it has not."""
    until = _markers(request).get(str(citizen_id))
    return until if until is not None and until > time.time() else None


def _mark_unlocked(request: HttpRequest, citizen_id: int, expires_at: float) -> None:
    markers = {k: v for k, v in _markers(request).items() if v > time.time()}
    markers[str(citizen_id)] = expires_at
    request.session[SESSION_KEY] = markers


def _forget_unlock(request: HttpRequest, citizen_id: int) -> None:
    markers = _markers(request)
    markers.pop(str(citizen_id), None)
    request.session[SESSION_KEY] = markers


def _gate(request: HttpRequest) -> services.Gate:
    return lambda access: unlocked_until(request, access.citizen.pk) is not None


def _access(request: HttpRequest, pid: str) -> BookAccess:
    try:
        return selectors.get_book_by_personal_id(_viewer(request), pid)
    except NotFound as exc:
        raise Http404 from exc


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context.setdefault("web_client_version", settings.SOSKDT["WEB_CLIENT_VERSION"])
    return render(request, template, context, status=status)


def _refused(request: HttpRequest, pid: str, exc: DomainError) -> HttpResponse:
    """Send a refused read to the step that is missing: first use, the passcode, or an explanation."""
    if isinstance(exc, NotFound):
        raise Http404 from exc
    if exc.code in _TO_FIRST_USE:
        return redirect("healthbook:terms", pid=pid)
    if exc.code == services.BOOK_LOCKED:
        return redirect(f"{reverse('healthbook:unlock', args=[pid])}?next={request.get_full_path()}")
    if exc.code == services.LEVEL2_REQUIRED:
        return _render(request, "healthbook/level2_required.html", {"error": exc}, status=403)
    raise exc


def _answer_refusals(view: View) -> View:
    """Answer a refused read of the book ``pid`` (a ``DomainError`` out of the view) with ``_refused``."""

    @wraps(view)
    def wrapper(request: HttpRequest, pid: str, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, pid, **kwargs)
        except DomainError as exc:
            return _refused(request, pid, exc)

    return wrapper


def _read(request: HttpRequest, pid: str, read: Callable[..., R], **arguments: Any) -> R:
    """Call ``read`` on ``pid``'s book as the page's viewer, behind the page session's passcode gate."""
    return read(viewer=_viewer(request), who=pid, gate=_gate(request), context=_context(request), **arguments)


def _data(read: reads.Read[T]) -> T:
    assert read.data is not None  # pages send no If-None-Match, so a read always carries its data
    return read.data


def _book_context(access: BookAccess, **extra: Any) -> dict[str, Any]:
    return {"access": access, "person": access.citizen, "pid": access.citizen.personal_id, **extra}


# --- Hồ sơ sức khỏe -----------------------------------------------------------------------------------


@citizen_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """*Hồ sơ sức khỏe*: the own book, the people managed, the profile."""
    viewer = _viewer(request)
    own = selectors.own_book(viewer)
    context = {
        "own_book": own,
        "people": selectors.managed_people(viewer),
        "level2": viewer.assurance_level == 2,
    }
    return _render(request, "healthbook/home.html", context)


@citizen_required
@never_cache
def profile(request: HttpRequest) -> HttpResponse:
    """Personal data, the linked BHYT card and the people managed (not a book read: nothing logged)."""
    from soskdt.wallet.selectors import wallet_card_of

    viewer = _viewer(request)
    context = {
        "person": viewer.citizen,
        "card": wallet_card_of(viewer),
        "people": selectors.managed_people(viewer),
        "representative": viewer.citizen.representative if viewer.citizen else None,
    }
    return _render(request, "healthbook/profile.html", context)


# --- first use: terms, passcode -------------------------------------------------------------------------


@citizen_required
@never_cache
@require_http_methods(["GET", "POST"])
def terms_page(request: HttpRequest, pid: str) -> HttpResponse:
    """The terms and *Đồng ý sử dụng*; also the dispatcher of first use."""
    viewer = _viewer(request)
    access = _access(request, pid)
    if viewer.assurance_level != 2:
        return _render(request, "healthbook/level2_required.html", {}, status=403)
    own = access.book if access.is_own else selectors.own_book(viewer)
    own_has_passcode = own is not None and own.pk is not None and own.has_passcode
    if not access.is_own and not own_has_passcode:
        context = _book_context(access, own_pid=viewer.username)
        return _render(request, "healthbook/own_book_first.html", context, status=409)
    if request.method == "GET" and access.terms_current:
        if access.is_own and not own_has_passcode:
            return redirect("healthbook:set_passcode")
        return redirect("healthbook:book", pid=pid)
    status = 200
    error: DomainError | None = None
    if request.method == "POST":
        if request.POST.get("agree") != "1":
            error = DomainError(services.TERMS_NOT_ACCEPTED, status=422)
        else:
            try:
                services.accept_terms(
                    viewer=viewer,
                    who=pid,
                    terms_version=request.POST.get("terms_version", ""),
                    context=_context(request),
                )
            except DomainError as exc:
                error = exc
            else:
                if access.is_own and not own_has_passcode:
                    return redirect("healthbook:set_passcode")
                messages.success(request, _("Đã kích hoạt Sổ sức khỏe điện tử."))
                return redirect("healthbook:book", pid=pid)
        status = error.status if error else 200
    context = _book_context(
        access,
        terms_title=terms.TITLE,
        paragraphs=terms.PARAGRAPHS,
        terms_version=terms.CURRENT_VERSION,
        error=error,
        outdated=access.book.terms_accepted_at is not None and not access.terms_current,
    )
    return _render(request, "healthbook/terms.html", context, status=status)


@sensitive_post_parameters("passcode", "passcode_confirm")
@citizen_required
@never_cache
@require_http_methods(["GET", "POST"])
def set_passcode(request: HttpRequest) -> HttpResponse:
    """Set the 6-digit passcode of the own book (twice); the book is then activated."""
    viewer = _viewer(request)
    access = _access(request, viewer.username)
    if access.book.pk is not None and access.book.has_passcode:
        return redirect("healthbook:book", pid=viewer.username)
    if not access.terms_current:
        return redirect("healthbook:terms", pid=viewer.username)
    status = 200
    form = NewPasscodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_passcode(
                viewer=viewer,
                passcode=form.cleaned_data["passcode"],
                confirm=form.cleaned_data["passcode_confirm"],
                context=_context(request),
            )
        except DomainError as exc:
            add_refusal(form, exc, "passcode")
            status = exc.status
        else:
            expires = time.time() + services.token_lifetime().total_seconds()
            _mark_unlocked(request, access.citizen.pk, expires)
            messages.success(request, _("Đã đặt passcode. Sổ sức khỏe điện tử của bạn đã sẵn sàng."))
            return redirect("healthbook:book", pid=viewer.username)
    elif request.method == "POST":
        status = 422
    return _render(request, "healthbook/set_passcode.html", _book_context(access, form=form), status=status)


# --- the passcode ----------------------------------------------------------------------------------------


def _lock_minutes(viewer: User) -> int:
    return throttle.locked_for(services.passcode_limit(), f"user:{viewer.pk}")


@sensitive_post_parameters("passcode")
@citizen_required
@never_cache
@require_http_methods(["GET", "POST"])
def unlock(request: HttpRequest, pid: str) -> HttpResponse:
    """Enter the passcode (the representative's own for a represented person's book)."""
    viewer = _viewer(request)
    access = _access(request, pid)
    target = _safe_next(request, reverse("healthbook:book", args=[pid]))
    if not access.is_open or (access.is_own and not access.book.has_passcode):
        return redirect("healthbook:terms", pid=pid)
    status = 200
    form = PasscodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            unlocked = services.unlock_book(
                viewer=viewer,
                who=pid,
                passcode=form.cleaned_data["passcode"],
                context=_context(request),
                issue_token=False,
            )
        except DomainError as exc:
            if exc.code == services.LEVEL2_REQUIRED:
                return _refused(request, pid, exc)
            add_refusal(form, exc, "passcode")
            status = exc.status
        else:
            _mark_unlocked(request, access.citizen.pk, unlocked.expires_at.timestamp())
            return redirect(target)
    elif request.method == "POST":
        status = 422
    context = _book_context(access, form=form, locked_minutes=_lock_minutes(viewer), next=target)
    return _render(request, "healthbook/unlock.html", context, status=status)


@citizen_required
@require_POST
def lock(request: HttpRequest, pid: str) -> HttpResponse:
    """*Đóng sổ*: forget this book's unlock in the session."""
    access = _access(request, pid)
    _forget_unlock(request, access.citizen.pk)
    messages.info(request, _("Đã đóng sổ."))
    return redirect("healthbook:home")


@citizen_required
@never_cache
@require_http_methods(["GET", "POST"])
def forgot_passcode(request: HttpRequest) -> HttpResponse:
    """*Quên passcode?*: send an OTP to the registered phone."""
    viewer = _viewer(request)
    error: DomainError | None = None
    status = 200
    if request.method == "POST":
        try:
            sent = services.request_passcode_reset(viewer=viewer, context=_context(request))
        except DomainError as exc:
            if exc.code == services.LEVEL2_REQUIRED:
                return _render(request, "healthbook/level2_required.html", {}, status=403)
            error, status = exc, exc.status
        else:
            request.session[RESET_SESSION_KEY] = sent.phone_masked
            return redirect("healthbook:reset_passcode")
    phone = (viewer.phone or (viewer.citizen.phone if viewer.citizen else "") or "").strip()
    context = {"error": error, "phone": services.sms.mask_phone(phone) if phone else ""}
    return _render(request, "healthbook/forgot_passcode.html", context, status=status)


@sensitive_post_parameters("otp", "passcode", "passcode_confirm")
@citizen_required
@never_cache
@require_http_methods(["GET", "POST"])
def reset_passcode(request: HttpRequest) -> HttpResponse:
    """Enter the OTP and the new passcode (twice)."""
    viewer = _viewer(request)
    status = 200
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reset_passcode(
                viewer=viewer,
                otp=form.cleaned_data["otp"],
                passcode=form.cleaned_data["passcode"],
                confirm=form.cleaned_data["passcode_confirm"],
                context=_context(request),
            )
        except DomainError as exc:
            add_refusal(form, exc, "otp")
            status = exc.status
        else:
            request.session.pop(RESET_SESSION_KEY, None)
            request.session.pop(SESSION_KEY, None)
            messages.success(request, _("Đã đặt lại passcode. Vui lòng nhập passcode mới để mở sổ."))
            return redirect("healthbook:unlock", pid=viewer.username)
    elif request.method == "POST":
        status = 422
    context = {"form": form, "sent_to": request.session.get(RESET_SESSION_KEY, "")}
    return _render(request, "healthbook/reset_passcode.html", context, status=status)


# --- reading the book --------------------------------------------------------------------------------


@citizen_required
@never_cache
@_answer_refusals
def book(request: HttpRequest, pid: str) -> HttpResponse:
    """*Hồ sơ sức khỏe điện tử*: *Cập nhật dữ liệu* and *Năm* (only years with visits)."""
    home_ = _read(request, pid, reads.open_book)
    context = _book_context(home_.access, home=home_)
    if getattr(request, "htmx", False) and request.headers.get("HX-Target") == "book-years":
        return _render(request, "healthbook/_years.html", context)
    return _render(request, "healthbook/book.html", context)


@citizen_required
@require_POST
def sync(request: HttpRequest, pid: str) -> HttpResponse:
    """*Cập nhật dữ liệu* (htmx: the result in place, then the years reload; without JS: back to the book)."""
    try:
        result = services.sync_book(
            viewer=_viewer(request), who=pid, gate=_gate(request), context=_context(request)
        )
    except DomainError as exc:
        if getattr(request, "htmx", False) and exc.code == services.BOOK_LOCKED:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("healthbook:unlock", args=[pid])
            return response
        return _refused(request, pid, exc)
    if getattr(request, "htmx", False):
        return _render(request, "healthbook/_sync_result.html", {"result": result, "pid": pid})
    messages.success(request, present_sync(result))
    return redirect("healthbook:book", pid=pid)


def present_sync(result: services.SyncResult) -> str:
    if result.new_visits:
        text = _("Có {n} đợt khám mới.").format(n=result.new_visits)
    else:
        text = _("Không có đợt khám mới.")
    if result.updated_visits:
        text += " " + _("{n} đợt khám được cơ sở cập nhật.").format(n=result.updated_visits)
    return text


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("trang", "1")))
    except ValueError:
        return 1


@citizen_required
@never_cache
@_answer_refusals
def year(request: HttpRequest, pid: str, year: int) -> HttpResponse:
    """The visits of one year, newest first: facility, dates, visit type, main diagnosis."""
    page = _page_number(request)
    found = _data(_read(request, pid, reads.visits_for_year, year=year, page=page, page_size=VISITS_PER_PAGE))
    context = _book_context(
        found.access, year=year, page=found.page, tabs=reads.TABS.values(), current_tab=None
    )
    return _render(request, "healthbook/year.html", context)


@citizen_required
@never_cache
@_answer_refusals
def year_tab(request: HttpRequest, pid: str, year: int, slug: str) -> HttpResponse:
    """One tab across the visits of a year, ten visits a page."""
    page = _page_number(request)
    content = _data(
        _read(request, pid, reads.year_tab, year=year, tab_key=slug, page=page, page_size=TAB_VISITS_PER_PAGE)
    )
    context = _book_context(
        content.access, year=year, content=content, tabs=reads.TABS.values(), current_tab=content.tab.key
    )
    return _render(request, "healthbook/year_tab.html", context)


@citizen_required
@never_cache
@_answer_refusals
def visit(request: HttpRequest, pid: str, visit_id: int) -> HttpResponse:
    """*Chi tiết đợt khám*."""
    detail = _data(_read(request, pid, reads.visit_detail, visit_id=visit_id))
    context = _book_context(
        detail.access,
        detail=detail,
        summary=detail.summary,
        administrative=present.administrative(detail),
        visit_section=present.visit_section(detail),
        papers={section.key: section for section in present.papers(detail)},
        tabs=reads.TABS.values(),
        current_tab=None,
    )
    return _render(request, "healthbook/visit.html", context)


@citizen_required
@never_cache
@_answer_refusals
def visit_tab(request: HttpRequest, pid: str, visit_id: int, slug: str) -> HttpResponse:
    """One tab of one visit."""
    content = _data(_read(request, pid, reads.visit_tab, visit_id=visit_id, tab_key=slug))
    context = _book_context(
        content.access,
        content=content,
        summary=content.groups[0].visit,
        tabs=reads.TABS.values(),
        current_tab=content.tab.key,
    )
    return _render(request, "healthbook/visit_tab.html", context)


@citizen_required
@never_cache
@_answer_refusals
def visit_pdf(request: HttpRequest, pid: str, visit_id: int) -> HttpResponse:
    """*Tải PDF*: the visit as an A4 PDF, made now."""
    pdf = _read(request, pid, reads.visit_pdf, visit_id=visit_id)
    response = HttpResponse(pdf.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
