"""Pages of sharing: the citizen's shares, *Ai đã xem sổ của tôi*, notices, the representative's renewal;
the clinician's *Tra cứu sổ sức khỏe* (code or QR), the shared book, emergency access; the auditor's review.

The clinician's book pages are the citizen's own templates (``healthbook/year.html`` …) rendered with
``book_ns = "shared_book"``: the same detail, read-only, no passcode. They are named by the session's (or
emergency access's) public id, which only works for the clinician and facility that opened it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar, cast

import segno
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from soskdt.core.errors import DomainError, NotFound
from soskdt.healthbook import present, reads
from soskdt.healthbook.access import AccessContext, context_from
from soskdt.healthbook.models import AccessLog, AccessOutcome
from soskdt.healthbook.scope import CATEGORIES, HIV_LABEL
from soskdt.healthbook.selectors import BookAccess, book_access, managed_people
from soskdt.identity.auth import citizen_required, permission_required
from soskdt.identity.models import User
from soskdt.sharing import selectors, services
from soskdt.sharing.models import EmergencyReason, ReviewOutcome, ShareGrant

VISITS_PER_PAGE = 20
TAB_VISITS_PER_PAGE = 10
LOG_PER_PAGE = 20
BOOK_NS = "sharing:shared_book"

R = TypeVar("R")
T = TypeVar("T")

LIFETIME_LABELS = {
    60: gettext_lazy("1 giờ"),
    240: gettext_lazy("4 giờ (mặc định)"),
    1440: gettext_lazy("24 giờ"),
    10080: gettext_lazy("7 ngày"),
    43200: gettext_lazy("30 ngày"),
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _context(request: HttpRequest) -> AccessContext:
    return context_from(request, "page")


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("trang", "1")))
    except ValueError:
        return 1


def _who(request: HttpRequest) -> str:
    """The book meant: ``?nguoi=<personal ID>`` of a managed person, or the viewer's own."""
    wanted = (request.GET.get("nguoi") or request.POST.get("nguoi") or "").strip()
    return wanted if wanted.isdigit() and len(wanted) == 12 else _user(request).username


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as inline SVG (segno), scaled by CSS."""
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=8, border=2, xmldecl=False, svgns=True, svgclass="qr"
    )
    return out.getvalue().decode()


# --- citizen: shares ------------------------------------------------------------------------------------


def _books_to_share(viewer: User) -> list[dict[str, str]]:
    own = {"pid": viewer.username, "name": _("Sổ của tôi")}
    return [own, *({"pid": p.personal_id, "name": p.full_name} for p in managed_people(viewer))]


@citizen_required
@never_cache
def shares(request: HttpRequest) -> HttpResponse:
    """*Chia sẻ sổ*: the shares made, their status, and *Thu hồi*."""
    viewer = _user(request)
    now = timezone.now()
    rows = [(share, share.status(now)) for share in services.shares_of(viewer)]
    context = {"rows": rows, "now": now, "unread": selectors.unread_notices(viewer)}
    return render(request, "sharing/shares.html", context)


def _years_of(access: BookAccess) -> list[int]:
    return sorted(
        {y for y in reads.scoped_visits(access).values_list("visit_year", flat=True) if y is not None},
        reverse=True,
    )


@citizen_required
@never_cache
@require_http_methods(["GET", "POST"])
def share_create(request: HttpRequest) -> HttpResponse:
    """Create a share: scope (whole book, or years + categories), HIV only if ticked, lifetime, facility."""
    viewer = _user(request)
    who = _who(request)
    try:
        access = book_access(viewer, who)
    except NotFound as exc:
        raise Http404 from exc
    error: DomainError | None = None
    status = 200
    form: dict[str, Any] = {
        "mode": "all",
        "years": [],
        "categories": list(CATEGORIES),
        "include_hiv": False,
        "lifetime": 240,
        "facility": "",
    }
    if request.method == "POST":
        form = {
            "mode": request.POST.get("mode", "all"),
            "years": [y for y in request.POST.getlist("years") if y.isdigit()],
            "categories": request.POST.getlist("categories"),
            "include_hiv": request.POST.get("include_hiv") == "1",
            "lifetime": request.POST.get("lifetime", "240"),
            "facility": request.POST.get("facility", "").strip(),
        }
        try:
            minutes = int(form["lifetime"])
        except ValueError:
            minutes = -1
        whole = form["mode"] == "all"
        try:
            created = services.create_share(
                viewer=viewer,
                who=who,
                categories=list(CATEGORIES) if whole else form["categories"],
                years=None if whole else [int(y) for y in form["years"]],
                include_hiv=form["include_hiv"],
                lifetime=dt.timedelta(minutes=minutes),
                facility_code=form["facility"] or None,
                context=_context(request),
            )
        except DomainError as exc:
            if exc.code in {"BOOK_NOT_ACTIVATED", "BOOK_TERMS_OUTDATED", "BOOK_TERMS_NOT_ACCEPTED"}:
                return redirect("healthbook:terms", pid=who)
            error, status = exc, exc.status
        else:
            return _show_created(request, created)
        try:
            form["lifetime"] = int(form["lifetime"])
        except ValueError:
            form["lifetime"] = 240
    context = {
        "access": access,
        "person": access.citizen,
        "who": who,
        "years": _years_of(access) if access.book.pk else [],
        "categories": CATEGORIES.items(),
        "hiv_label": HIV_LABEL,
        "lifetimes": LIFETIME_LABELS.items(),
        "form": form,
        "error": error,
        "books": _books_to_share(viewer),
    }
    return render(request, "sharing/share_create.html", context, status=status)


def _show_created(request: HttpRequest, created: services.ShareCreated) -> HttpResponse:
    share = created.share
    link = (
        request.build_absolute_uri(reverse("sharing:open_qr", args=[share.public_id])) + f"#ma={created.code}"
    )
    context = {
        "share": share,
        "code": created.display_code,
        "qr": mark_safe(qr_svg(link)),  # noqa: S308 - SVG made by segno from our own URL
        "link": link,
        "status": share.status(),
    }
    return render(request, "sharing/share_created.html", context)


@citizen_required
@never_cache
def share_detail(request: HttpRequest, share_id: int) -> HttpResponse:
    """One share: scope, lifetime, status, who opened it; the code is never shown again."""
    viewer = _user(request)
    try:
        share = services.share_of(viewer, share_id)
    except NotFound as exc:
        raise Http404 from exc
    sessions = share.sessions.select_related("clinician", "facility").order_by("-opened_at")
    context = {"share": share, "status": share.status(), "sessions": sessions}
    return render(request, "sharing/share_detail.html", context)


@citizen_required
@require_POST
def share_revoke(request: HttpRequest, share_id: int) -> HttpResponse:
    """*Thu hồi*: the share stops working at once (htmx: the row in place)."""
    viewer = _user(request)
    try:
        share = services.revoke_share(viewer=viewer, share_id=share_id, context=_context(request))
    except NotFound as exc:
        raise Http404 from exc
    if getattr(request, "htmx", False):
        share = ShareGrant.objects.select_related("citizen", "facility").get(pk=share.pk)
        return render(request, "sharing/_share_row.html", {"share": share, "status": share.status()})
    messages.success(request, _("Đã thu hồi chia sẻ. Mã chia sẻ không còn dùng được."))
    return redirect("sharing:shares")


# --- citizen: Ai đã xem sổ của tôi, notices, proxy -----------------------------------------------------------


@citizen_required
@never_cache
def access_log(request: HttpRequest) -> HttpResponse:
    """*Ai đã xem sổ của tôi*: every read and change of the book, newest first."""
    viewer = _user(request)
    who = _who(request)
    try:
        log = selectors.access_log(viewer, who, page=_page_number(request), page_size=LOG_PER_PAGE)
        access = book_access(viewer, who)
    except NotFound as exc:
        raise Http404 from exc
    context = {
        "log": log,
        "page": log,
        "person": access.citizen,
        "access": access,
        "who": who,
        "books": _books_to_share(viewer),
    }
    return render(request, "sharing/access_log.html", context)


@citizen_required
@never_cache
def notices(request: HttpRequest) -> HttpResponse:
    """Notices of clinician and emergency reads; opening the page marks them read."""
    viewer = _user(request)
    found = selectors.notices_of(viewer)
    unread = {n.pk for n in found if n.read_at is None}
    services.mark_notices_read(viewer=viewer)
    return render(request, "sharing/notices.html", {"notices": found, "unread": unread})


@citizen_required
@never_cache
@require_http_methods(["GET", "POST"])
def proxy(request: HttpRequest) -> HttpResponse:
    """From 14, the person decides whether their representative keeps managing their book."""
    from soskdt.sharing.models import ProxyRenewal

    viewer = _user(request)
    person = viewer.citizen
    assert person is not None
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                services.revoke_proxy(viewer=viewer)
                messages.info(request, _("Đã thu hồi quyền quản lý sổ của người đại diện."))
            else:
                services.renew_proxy(viewer=viewer)
                messages.success(request, _("Đã gia hạn quyền quản lý sổ cho người đại diện."))
        except DomainError as exc:
            error = exc
        else:
            return redirect("sharing:proxy")
    renewal = (
        ProxyRenewal.objects.filter(person=person, revoked_at__isnull=True)
        .select_related("representative")
        .first()
    )
    age = person.birth_date.age_on(timezone.localdate())
    context = {
        "person": person,
        "representative": person.representative,
        "renewal": renewal,
        "age": age,
        "error": error,
    }
    return render(request, "sharing/proxy.html", context, status=error.status if error else 200)


# --- clinician: Tra cứu sổ sức khỏe ------------------------------------------------------------------------


def _open_page(request: HttpRequest, *, public_id: str | None) -> HttpResponse:
    viewer = _user(request)
    error: str | None = None
    status = 200
    if request.method == "POST":
        try:
            session = services.open_share(
                viewer=viewer,
                code=request.POST.get("code", ""),
                context=_context(request),
                public_id=public_id,
            )
        except NotFound:
            error, status = _("Mã không đúng, đã hết hạn hoặc đã bị thu hồi."), 404
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            return redirect("sharing:shared_book:book", pid=session.public_id)
    context = {
        "error": error,
        "public_id": public_id,
        "locked_minutes": services.code_locked_minutes(viewer),
        "sessions": selectors.clinician_sessions(viewer),
        "emergencies": selectors.clinician_emergencies(viewer),
        "facility": viewer.facility,
    }
    return render(request, "sharing/clinician_home.html", context, status=status)


@permission_required(services.CLINICIAN_PERMISSION)
@never_cache
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """*Tra cứu sổ sức khỏe*: type the code the patient shows (or scan their QR)."""
    if _user(request).facility_id is None:
        raise Http404
    return _open_page(request, public_id=None)


@permission_required(services.CLINICIAN_PERMISSION)
@never_cache
@require_http_methods(["GET", "POST"])
def open_qr(request: HttpRequest, public_id: str) -> HttpResponse:
    """The QR link: the share is named by the link; the code comes from the link's fragment or is typed."""
    if _user(request).facility_id is None or selectors.share_by_public_id(public_id) is None:
        raise Http404
    return _open_page(request, public_id=public_id)


@permission_required(services.CLINICIAN_PERMISSION)
@never_cache
@require_http_methods(["GET", "POST"])
def emergency(request: HttpRequest) -> HttpResponse:
    """*Truy cập khẩn cấp*: open a book without a share, with a reason; reviewed afterwards."""
    viewer = _user(request)
    if viewer.facility_id is None:
        raise Http404
    error: str | None = None
    status = 200
    form = {"personal_id": "", "reason": "", "text": ""}
    if request.method == "POST":
        form = {k: request.POST.get(k, "").strip() for k in form}
        try:
            started = services.start_emergency(
                viewer=viewer,
                personal_id=form["personal_id"],
                reason=form["reason"],
                reason_text=form["text"],
                context=_context(request),
            )
        except NotFound:
            error, status = _("Không tìm thấy người có số định danh này."), 404
        except DomainError as exc:
            error, status = exc.message, exc.status
        else:
            messages.warning(
                request, _("Đã mở sổ khẩn cấp trong 3 giờ. Lần truy cập này sẽ được kiểm soát viên rà soát.")
            )
            return redirect("sharing:shared_book:book", pid=started.public_id)
    context = {"form": form, "reasons": EmergencyReason.choices, "error": error}
    return render(request, "sharing/emergency.html", context, status=status)


@permission_required(services.AUDITOR_PERMISSION)
@never_cache
@require_http_methods(["GET", "POST"])
def emergency_review(request: HttpRequest) -> HttpResponse:
    """The auditor's queue: the facility's emergency accesses, unreviewed first; mark reviewed with a comment."""
    viewer = _user(request)
    error: DomainError | None = None
    if request.method == "POST":
        try:
            services.review_emergency(
                viewer=viewer,
                emergency_id=int(request.POST.get("emergency", "0") or 0),
                outcome=request.POST.get("outcome", ""),
                comment=request.POST.get("comment", ""),
            )
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("Đã ghi nhận kết quả rà soát."))
            return redirect("sharing:emergency_review")
    rows = (
        selectors.emergencies_for_auditor(viewer)
        .select_related("clinician", "facility", "citizen", "reviewed_by")
        .order_by("reviewed_at", "-started_at")[:200]
    )
    context = {"rows": rows, "outcomes": ReviewOutcome.choices, "error": error, "now": timezone.now()}
    return render(request, "sharing/emergency_review.html", context, status=error.status if error else 200)


# --- clinician: the shared book ---------------------------------------------------------------------------


def _grant(request: HttpRequest, key: str, *, action: str, target: str) -> services.Grant:
    try:
        return services.grant_for(
            _user(request), key, context=_context(request), action=action, target=target
        )
    except NotFound as exc:
        raise Http404 from exc


def _denied(request: HttpRequest, grant: services.Grant, *, action: str, target: str) -> NoReturn:
    services.log_denied_read(grant, _user(request), action=action, target=target, context=_context(request))
    raise Http404


def _shared_read(
    request: HttpRequest, pid: str, read: Callable[..., R], *, action: str, target: str, **arguments: Any
) -> tuple[services.Grant, R]:
    """Call ``read`` on the book shared as ``pid``, for ``action`` on ``target``; return the grant and the result.

    A share the clinician cannot use is the plain 404; a read the share refuses is logged as denied, then 404.
    """
    viewer = _user(request)
    grant = _grant(request, pid, action=action, target=target)
    try:
        found = read(
            viewer=viewer,
            who=grant.citizen_id,
            gate=services.grant_gate(grant, viewer),
            context=_context(request),
            grant=grant,
            **arguments,
        )
    except (NotFound, DomainError):
        _denied(request, grant, action=action, target=target)
    return grant, found


def _data(read: reads.Read[T]) -> T:
    assert read.data is not None  # pages send no If-None-Match, so a read always carries its data
    return read.data


def _book_context(
    request: HttpRequest, grant: services.Grant, access: BookAccess, **extra: Any
) -> dict[str, Any]:
    return {
        "access": access,
        "person": access.citizen,
        "pid": grant.public_id,
        "book_ns": BOOK_NS,
        "grant": grant,
        "read_only": True,
        "tabs": reads.allowed_tabs(access.scope),
        "scope_years": sorted(access.scope.years) if access.scope.years is not None else None,
        "scope_categories": [CATEGORIES[c] for c in CATEGORIES if c in access.scope.categories],
        **extra,
    }


def _previous_view(viewer: User, citizen_id: int) -> dt.datetime | None:
    return (
        AccessLog.objects.filter(owner_id=citizen_id, actor_id=viewer.pk, outcome=AccessOutcome.SUCCESS)
        .order_by("-id")
        .values_list("at", flat=True)
        .first()
    )


def _clinical_summary(citizen_id: int, access: BookAccess, since: dt.datetime | None) -> Any:
    try:
        from soskdt.sharing.summary import clinical_summary
    except ModuleNotFoundError:  # the clinical summary is built in another part of the issue
        return None
    return clinical_summary(citizen_id=citizen_id, scope=access.scope, since=since)


@permission_required(services.CLINICIAN_PERMISSION)
@never_cache
def shared_book(request: HttpRequest, pid: str) -> HttpResponse:
    """The patient's book within the share: summary (when available) and the years."""
    viewer = _user(request)
    grant = _grant(request, pid, action="book.open", target="")
    since = _previous_view(viewer, grant.citizen_id)
    try:
        with transaction.atomic():
            home_ = reads.open_book(
                viewer=viewer,
                who=grant.citizen_id,
                gate=services.grant_gate(grant, viewer),
                context=_context(request),
                grant=grant,
            )
            summary = _clinical_summary(grant.citizen_id, home_.access, since)
    except (NotFound, DomainError):
        return _denied(request, grant, action="book.open", target="")
    context = _book_context(request, grant, home_.access, home=home_, summary=summary)
    return render(request, "sharing/shared_book.html", context)


@permission_required(services.CLINICIAN_PERMISSION)
@never_cache
def shared_year(request: HttpRequest, pid: str, year: int) -> HttpResponse:
    page = _page_number(request)
    grant, read = _shared_read(
        request,
        pid,
        reads.visits_for_year,
        action="visits.year",
        target=f"year:{year}",
        year=year,
        page=page,
        page_size=VISITS_PER_PAGE,
    )
    found = _data(read)
    context = _book_context(request, grant, found.access, year=year, page=found.page, current_tab=None)
    return render(request, "healthbook/year.html", context)


@permission_required(services.CLINICIAN_PERMISSION)
@never_cache
def shared_year_tab(request: HttpRequest, pid: str, year: int, slug: str) -> HttpResponse:
    spec = reads.tab(slug)
    page = _page_number(request)
    grant, read = _shared_read(
        request,
        pid,
        reads.year_tab,
        action=spec.action,
        target=f"year:{year}",
        year=year,
        tab_key=slug,
        page=page,
        page_size=TAB_VISITS_PER_PAGE,
    )
    content = _data(read)
    context = _book_context(
        request, grant, content.access, year=year, content=content, current_tab=content.tab.key
    )
    return render(request, "healthbook/year_tab.html", context)


@permission_required(services.CLINICIAN_PERMISSION)
@never_cache
def shared_visit(request: HttpRequest, pid: str, visit_id: int) -> HttpResponse:
    grant, read = _shared_read(
        request, pid, reads.visit_detail, action="visit.detail", target=f"visit:{visit_id}", visit_id=visit_id
    )
    detail = _data(read)
    context = _book_context(
        request,
        grant,
        detail.access,
        detail=detail,
        summary=detail.summary,
        administrative=present.administrative(detail),
        visit_section=present.visit_section(detail),
        papers={section.key: section for section in present.papers(detail)},
        current_tab=None,
    )
    return render(request, "healthbook/visit.html", context)


@permission_required(services.CLINICIAN_PERMISSION)
@never_cache
def shared_visit_tab(request: HttpRequest, pid: str, visit_id: int, slug: str) -> HttpResponse:
    spec = reads.tab(slug)
    grant, read = _shared_read(
        request,
        pid,
        reads.visit_tab,
        action=spec.action,
        target=f"visit:{visit_id}",
        visit_id=visit_id,
        tab_key=slug,
    )
    content = _data(read)
    context = _book_context(
        request,
        grant,
        content.access,
        content=content,
        summary=content.groups[0].visit,
        current_tab=content.tab.key,
    )
    return render(request, "healthbook/visit_tab.html", context)


@permission_required(services.CLINICIAN_PERMISSION)
@never_cache
def shared_visit_pdf(request: HttpRequest, pid: str, visit_id: int) -> HttpResponse:
    _share, pdf = _shared_read(
        request, pid, reads.visit_pdf, action="visit.pdf", target=f"visit:{visit_id}", visit_id=visit_id
    )
    response = HttpResponse(pdf.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@permission_required(services.CLINICIAN_PERMISSION)
@require_POST
def shared_close(request: HttpRequest, pid: str) -> HttpResponse:
    """*Đóng sổ*: the clinician ends their session (the citizen's share itself stays until it ends)."""
    services.end_session(viewer=_user(request), public_id=pid)
    messages.info(request, _("Đã đóng sổ của người bệnh."))
    return redirect("sharing:home")
