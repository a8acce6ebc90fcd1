"""Pages of the wallet, in the order of the letter's Appendix 2.

*Ví giấy tờ* → *Tích hợp thông tin* → *Tạo mới yêu cầu* → *Nhập thông tin tích hợp* → the request's result.
They call the same services and selectors as the API.
"""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from soskdt.core.errors import DomainError, NotFound
from soskdt.identity.auth import APP_VERSION_HEADER, citizen_required
from soskdt.identity.models import User
from soskdt.wallet import codes, selectors, services
from soskdt.wallet.forms import CardLinkRequestForm
from soskdt.wallet.models import LinkStatus

REQUESTS_PER_PAGE = 20
# Refusals about one field are shown on that field; the others (level 2, app version, pending) replace the form.
_FIELD_OF_REFUSAL = {
    codes.WRONG_NUMBER: "value",
    codes.ISSUER_INVALID: "issuer",
    codes.DOCUMENT_TYPE_UNSUPPORTED: "document_type",
}


def client_version(request: HttpRequest) -> str:
    """The version of the client: the app sends ``X-App-Version``; the web pages are WEB_CLIENT_VERSION."""
    return request.headers.get(APP_VERSION_HEADER, "").strip() or str(settings.SOSKDT["WEB_CLIENT_VERSION"])


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("web_client_version", client_version(request))
    return render(request, template, context, status=status)


@citizen_required
def home(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    context = {
        "card": selectors.wallet_card_of(viewer),
        "pending": selectors.pending_request_of(viewer),
    }
    return _render(request, "wallet/home.html", context)


@citizen_required
def integrations(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.requests_of(_viewer(request)), REQUESTS_PER_PAGE).get_page(
        request.GET.get("trang")
    )
    return _render(request, "wallet/integrations.html", {"page": page})


@citizen_required
@require_http_methods(["GET", "POST"])
def new_request(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    version = client_version(request)
    blocker = services.link_blocker(user=viewer, app_version=version)
    status = 200
    if request.method == "POST":
        form = CardLinkRequestForm(request.POST)
        if form.is_valid():
            try:
                link_request = services.submit_link_request(
                    user=viewer,
                    value=form.cleaned_data["value"],
                    issuer=form.cleaned_data["issuer"],
                    app_version=version,
                    document_type=form.cleaned_data["document_type"],
                )
            except DomainError as exc:
                field = _FIELD_OF_REFUSAL.get(exc.code)
                if field:
                    form.add_error(field, exc.message)
                else:
                    blocker = exc
                status = exc.status
            else:
                return redirect("wallet:request_detail", pk=link_request.pk)
        else:
            status = 422
    else:
        form = CardLinkRequestForm()
    pending = blocker is not None and blocker.code == codes.REQUEST_PENDING
    context = {
        "form": form,
        "blocker": blocker,
        "pending": selectors.pending_request_of(viewer) if pending else None,
    }
    return _render(request, "wallet/new_request.html", context, status=status)


@citizen_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        link_request = selectors.request_of(_viewer(request), pk)
    except NotFound as exc:
        raise Http404 from exc
    linked = getattr(link_request, "linked_card", None) if link_request.card_id else None
    context = {
        "link_request": link_request,
        "explanation": selectors.explanation_of(link_request),
        "card": selectors.summarise_card(link_request.card, linked_at=linked.linked_at if linked else None)
        if link_request.status == LinkStatus.APPROVED and link_request.card
        else None,
    }
    template = "wallet/_request_status.html" if request.htmx else "wallet/request_detail.html"  # type: ignore[attr-defined]
    return _render(request, template, context)
