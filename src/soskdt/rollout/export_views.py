"""Downloads of Appendix 1 (Word, Excel, PDF, JSON) and of the Appendix 2 poster.

Guarded exactly like the report pages (``views.rollout_page`` and the same selectors): a unit reporter gets their
own unit's files, a centre or province administrator those of every reporting unit below their unit and the
consolidation of their area; anybody else — and any month outside the campaign — gets the plain 404.

The renderers (python-docx, openpyxl, fpdf2, fontTools) are imported by ``soskdt.rollout.exports`` when a file
is made, never by this module: the URL map imports it in every fresh web worker.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from soskdt.rollout import selectors
from soskdt.rollout.exports import FORMATS, filename_for, letterhead_for, render, unit_poster
from soskdt.rollout.periods import Period
from soskdt.rollout.report import Appendix1, build_consolidated, build_unit_report
from soskdt.rollout.views import rollout_page


def _month(key: str) -> Period:
    try:
        month = Period.parse(key)
    except ValueError as exc:
        raise Http404 from exc
    if month > Period.of(timezone.localdate()):
        raise Http404
    return month


def _download(appendix: Appendix1, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    data = render(appendix, fmt, letterhead_for(appendix))
    response = HttpResponse(data, content_type=FORMATS[fmt][0])
    response["Content-Disposition"] = f'attachment; filename="{filename_for(appendix, fmt)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@rollout_page
@require_GET
def unit_report(request: HttpRequest, code: str, period: str, fmt: str) -> HttpResponse:
    """A unit's Appendix 1 for a month of its campaign, as the report page shows it."""
    unit = selectors.unit_for(request.user, code)
    month = _month(period)
    if month < Period.of(selectors.campaign_for(unit).starts_on):
        raise Http404
    return _download(build_unit_report(unit, month), fmt)


@rollout_page
@require_GET
def consolidated_report(request: HttpRequest, period: str, fmt: str) -> HttpResponse:
    """The administrator's consolidated Appendix 1 (``?chi_da_nop=1``: submitted units only)."""
    area = selectors.admin_area(request.user)
    appendix = build_consolidated(area, _month(period), only_submitted=request.GET.get("chi_da_nop") == "1")
    return _download(appendix, fmt)


def _poster_size(request: HttpRequest) -> str:
    from soskdt.rollout.exports.poster import SIZES_MM  # fpdf2: only when a poster is asked for

    size = request.GET.get("kho", "A4").upper()
    if size not in SIZES_MM:
        raise Http404
    return size


def _poster_response(request: HttpRequest, data: bytes, code: str, size: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    # Inline: the browser opens its PDF viewer, ready to print.
    response["Content-Disposition"] = f'inline; filename="ap-phich-{code}-{size}.pdf"'
    return response


def _public_url(request: HttpRequest) -> str:
    configured = getattr(settings, "SOSKDT", {}).get("PUBLIC_URL")
    return str(configured) if configured else request.build_absolute_uri("/")


@rollout_page
@require_GET
def unit_poster_file(request: HttpRequest, code: str) -> HttpResponse:
    """The Appendix 2 poster of a unit the viewer may see (``?kho=A3`` for A3)."""
    unit = selectors.unit_for(request.user, code)
    size = _poster_size(request)
    return _poster_response(request, unit_poster(unit, size=size, url=_public_url(request)), unit.code, size)


@rollout_page
@require_GET
def area_poster_file(request: HttpRequest) -> HttpResponse:
    """The Appendix 2 poster of the administrator's own unit (the health centre's reception areas)."""
    area = selectors.admin_area(request.user)
    size = _poster_size(request)
    return _poster_response(request, unit_poster(area, size=size, url=_public_url(request)), area.code, size)
