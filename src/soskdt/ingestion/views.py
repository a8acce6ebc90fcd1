"""Operator pages of the QĐ 130 feed: submissions and their errors, the unlinked-visit queue, daily counts,
and the submitters' upload form. They call the same services and selectors as the API and the CLI.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from soskdt.core.errors import DomainError, NotFound
from soskdt.healthbook.services import link_pending_visits
from soskdt.identity.auth import permission_required
from soskdt.ingestion import selectors, services
from soskdt.ingestion.models import SubmissionSource, SubmissionStatus

SUBMISSIONS_PER_PAGE = 30
PROBLEM_VISITS_PER_PAGE = 50
UNLINKED_PER_PAGE = 50

operator_required = permission_required("ingestion.operate")


def _submission_or_404(request: HttpRequest, pk: Any) -> Any:
    try:
        return selectors.get_submission_for(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc


def _page(request: HttpRequest, items: Any, per_page: int) -> Any:
    return Paginator(items, per_page).get_page(request.GET.get("trang"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("trang", None)
    return query.urlencode()


@operator_required
def home(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    status = request.GET.get("trang_thai") or ""
    facility_code = request.GET.get("co_so") or ""
    submissions = selectors.filter_submissions(
        selectors.submissions_for(viewer), status=status, facility_code=facility_code
    ).defer("file_errors")
    context = {
        "page": _page(request, submissions, SUBMISSIONS_PER_PAGE),
        "statuses": SubmissionStatus.choices,
        "status": status,
        "facilities": list(selectors.facilities_for(viewer).only("code", "name")),
        "facility_code": facility_code,
        "query": _query_without_page(request),
        "can_upload": selectors.can_upload(viewer),
        "every_facility": selectors.sees_every_facility(viewer),
    }
    return render(request, "ingestion/home.html", context)


@operator_required
def submission(request: HttpRequest, pk: Any) -> HttpResponse:
    found = _submission_or_404(request, pk)
    page = _page(request, selectors.problem_rows(found), PROBLEM_VISITS_PER_PAGE)
    problems = []
    for row in page.object_list:
        for severity, items in (("error", row.errors), ("warning", row.warnings)):
            for item in items or []:
                problems.append(
                    {"severity": severity, **services.report_problem(item, found.file_name, row.ma_lk)}
                )
    file_problems = [
        {"severity": p.get("severity", "error"), **services.report_problem(p, found.file_name)}
        for p in found.file_errors or []
    ]
    context = {
        "submission": found,
        "page": page,
        "problems": problems,
        "file_problems": file_problems,
        "can_reprocess": selectors.can_reprocess(request.user),
        "stalled": found.status in (SubmissionStatus.RECEIVED, SubmissionStatus.PROCESSING),
        "reprocessings": list(
            found.reprocessings.order_by("-received_at").only("id", "received_at", "status")[:10]
        ),
    }
    return render(request, "ingestion/submission.html", context)


@require_POST
@operator_required
def reprocess(request: HttpRequest, pk: Any) -> HttpResponse:
    found = _submission_or_404(request, pk)
    if not selectors.can_reprocess(request.user):
        raise Http404
    copy = services.reprocess(submission_id=found.pk, sender=request.user, run=False)
    messages.success(request, _("Đã đưa tệp vào hàng đợi xử lý lại."))
    return redirect("ingestion:submission", pk=copy.pk)


@require_POST
@operator_required
def resume(request: HttpRequest, pk: Any) -> HttpResponse:
    found = _submission_or_404(request, pk)
    if services.resume_if_stalled(submission=found):
        messages.success(request, _("Đã đưa lượt gửi vào hàng đợi để xử lý tiếp."))
    else:
        messages.info(request, _("Lượt gửi đang được xử lý hoặc đã xong."))
    return redirect("ingestion:submission", pk=found.pk)


@operator_required
def unlinked(request: HttpRequest) -> HttpResponse:
    context = {
        "page": _page(request, selectors.unlinked_queue(request.user), UNLINKED_PER_PAGE),
        "every_facility": selectors.sees_every_facility(request.user),
        "can_upload": selectors.can_upload(request.user),
    }
    return render(request, "ingestion/unlinked.html", context)


@require_POST
@operator_required
def relink(request: HttpRequest) -> HttpResponse:
    linked = link_pending_visits()
    if linked:
        messages.success(request, _("Đã liên kết {count} đợt khám với công dân.").format(count=linked))
    else:
        messages.info(
            request, _("Chưa liên kết thêm được đợt khám nào: người bệnh chưa có trong sổ đăng ký.")
        )
    return redirect("ingestion:unlinked")


@operator_required
def daily(request: HttpRequest) -> HttpResponse:
    days, grid = selectors.daily_counts(request.user)
    context = {"days": days, "grid": grid, "can_upload": selectors.can_upload(request.user)}
    return render(request, "ingestion/daily.html", context)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Tệp XML (QĐ 130)"),
        help_text=gettext_lazy("Tệp GIAMDINHHS do phần mềm của cơ sở xuất ra, đuôi .xml."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )


@require_http_methods(["GET", "POST"])
@operator_required
def upload(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    if not selectors.can_upload(viewer):
        raise Http404
    facility = viewer.facility  # type: ignore[union-attr]
    if facility is None:
        raise Http404
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload_file = form.cleaned_data["file"]
            try:
                received = services.receive_file(
                    stream=upload_file,
                    file_name=upload_file.name or "upload.xml",
                    source=SubmissionSource.WEB,
                    facility=facility,
                    sender=viewer,
                    sender_label=viewer.get_username(),
                )
            except DomainError as exc:
                form.add_error("file", exc.message)
                status = exc.status
            else:
                refused = services.refuse_other_facility(submission=received, facility=facility)
                if refused is not None:
                    messages.error(request, refused.message)
                else:
                    services.enqueue_processing(submission=received)
                    messages.success(request, _("Đã nhận tệp; hệ thống đang xử lý."))
                return redirect(reverse("ingestion:submission", kwargs={"pk": received.pk}))
        else:
            status = 400
    return render(request, "ingestion/upload.html", {"form": form, "facility": facility}, status=status)
