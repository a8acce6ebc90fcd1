"""Roll-out API: GET /api/v1/rollout/reports/{unit}/{period} — Appendix 1 as JSON (docs/rollout.md).

Same scope as the pages: a unit reporter reads their unit, an administrator every unit below theirs; the
consolidated report of an administrator's area is GET /api/v1/rollout/consolidated/{period}.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router

from soskdt.core.errors import NotFound
from soskdt.identity.auth import api_auth
from soskdt.rollout import selectors
from soskdt.rollout.periods import Period
from soskdt.rollout.report import build_consolidated, build_unit_report

PREFIX = "/rollout/"
router = Router(tags=["rollout"], auth=api_auth)


def _period(key: str) -> Period:
    try:
        period = Period.parse(key)
    except ValueError as exc:
        raise NotFound() from exc
    if period > Period.of(timezone.localdate()):
        raise NotFound()
    return period


@router.get("/reports/{unit}/{period}", summary="Phụ lục 1 của một đơn vị (JSON)")
def unit_report(request: HttpRequest, unit: str, period: str) -> dict[str, Any]:
    found = selectors.unit_for(request.user, unit)
    return build_unit_report(found, _period(period)).to_json()


@router.get("/consolidated/{period}", summary="Phụ lục 1 tổng hợp của Trung tâm (JSON)")
def consolidated_report(request: HttpRequest, period: str, only_submitted: bool = False) -> dict[str, Any]:
    area = selectors.admin_area(request.user)
    return build_consolidated(area, _period(period), only_submitted=only_submitted).to_json()
