"""Pages: citizen and staff login, logout, the citizen home and profile, the staff home."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from soskdt.identity.auth import citizen_required, staff_required
from soskdt.identity.forms import CitizenLoginForm, StaffLoginForm
from soskdt.identity.models import User
from soskdt.identity.permissions import has_permission
from soskdt.identity.selectors import profile_of


@dataclass(frozen=True, slots=True)
class MenuItem:
    label: Promise
    help: Promise
    url: str


def _url_or_placeholder(name: str) -> str:
    # Menus name pages of apps that later issues build; until a page exists its item points nowhere.
    try:
        return reverse(name)
    except NoReverseMatch:
        return "#"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _login_page(
    request: HttpRequest, form_class: type[CitizenLoginForm], *, title: Promise, other: tuple[Promise, str]
) -> HttpResponse:
    user = request.user
    if request.method == "GET" and isinstance(user, User) and user.kind == form_class.kind:
        return redirect(_next_url(request))
    status = 200
    if request.method == "POST":
        form = form_class(request, data=request.POST)
        if form.is_valid() and form.user is not None:
            login(request, form.user)
            return redirect(_next_url(request))
        if any(error.code == "RATE_LIMITED" for error in form.non_field_errors().as_data()):
            status = 429
    else:
        form = form_class(request)
    context = {
        "form": form,
        "title": title,
        "next": request.POST.get("next") or request.GET.get("next") or "",
        "other_label": other[0],
        "other_url": other[1],
    }
    return render(request, "identity/login.html", context, status=status)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def citizen_login(request: HttpRequest) -> HttpResponse:
    return _login_page(
        request,
        CitizenLoginForm,
        title=_("Đăng nhập"),
        other=(_("Bạn là cán bộ y tế? Đăng nhập tại đây"), reverse("identity:staff_login")),
    )


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def staff_login(request: HttpRequest) -> HttpResponse:
    return _login_page(
        request,
        StaffLoginForm,
        title=_("Đăng nhập dành cho cán bộ y tế"),
        other=(_("Bạn là người dân? Đăng nhập tại đây"), reverse("identity:login")),
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("Bạn đã đăng xuất."))
    return redirect("/")


def _sharing_menu() -> list[MenuItem]:
    # Sharing's pages (a later app, named by URL only: identity does not import sharing).
    return [
        MenuItem(
            _("Chia sẻ sổ"),
            _("Cho nhân viên y tế xem sổ bằng mã hoặc QR"),
            _url_or_placeholder("sharing:shares"),
        ),
        MenuItem(
            _("Ai đã xem sổ của tôi"), _("Nhật ký truy cập sổ"), _url_or_placeholder("sharing:access_log")
        ),
        MenuItem(
            _("Thông báo"), _("Khi nhân viên y tế xem sổ của bạn"), _url_or_placeholder("sharing:notices")
        ),
    ]


@citizen_required
def citizen_home(request: HttpRequest) -> HttpResponse:
    menu = [
        MenuItem(_("Ví giấy tờ"), _("Thẻ BHYT và giấy tờ đã tích hợp"), _url_or_placeholder("wallet:home")),
        MenuItem(
            _("Hồ sơ sức khỏe"),
            _("Sổ sức khỏe điện tử, lịch sử khám chữa bệnh"),
            _url_or_placeholder("healthbook:home"),
        ),
        MenuItem(_("Cá nhân"), _("Thông tin cá nhân, mức định danh"), reverse("identity:profile")),
        *_sharing_menu(),
    ]
    return render(request, "identity/citizen_home.html", {"profile": profile_of(request.user), "menu": menu})  # type: ignore[arg-type]


@citizen_required
def profile(request: HttpRequest) -> HttpResponse:
    context = {
        "profile": profile_of(request.user),  # type: ignore[arg-type]
        "web_client_version": settings.SOSKDT["WEB_CLIENT_VERSION"],
    }
    return render(request, "identity/profile.html", context)


# What each permission offers on the staff home, in the order shown; the URL names belong to later apps.
_STAFF_MENU: list[tuple[str, Promise, Promise, str]] = [
    (
        "sharing.open_book",
        _("Tra cứu sổ sức khỏe"),
        _("Xem sổ của người bệnh khi được chia sẻ"),
        "sharing:home",
    ),
    (
        "ingestion.submit",
        _("Gửi dữ liệu khám chữa bệnh"),
        _("Tải lên tệp XML theo QĐ 130"),
        "ingestion:upload",
    ),
    (
        "ingestion.operate",
        _("Theo dõi dữ liệu tiếp nhận"),
        _("Lượt gửi, lỗi, hồ sơ chưa liên kết, số lượt khám theo ngày"),
        "ingestion:home",
    ),
    (
        "rollout.report_unit",
        _("Báo cáo của đơn vị"),
        _("Báo cáo triển khai hằng tháng (Phụ lục 1)"),
        "rollout:home",
    ),
    (
        "rollout.guide_patients",
        _("Hướng dẫn người bệnh tại khu vực tiếp đón"),
        _("Ghi nhận người bệnh đã được hướng dẫn cài ứng dụng, tích hợp thẻ BHYT, mở sổ"),
        "rollout:reception",
    ),
    (
        "rollout.admin_centre",
        _("Theo dõi triển khai"),
        _("Tổng hợp, duyệt báo cáo các đơn vị"),
        "rollout:dashboard",
    ),
    (
        "sharing.review_emergency",
        _("Kiểm soát truy cập khẩn cấp"),
        _("Rà soát các lần mở sổ khẩn cấp"),
        "sharing:emergency_review",
    ),
]


@staff_required
def staff_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    menu = [
        MenuItem(label, help_text, _url_or_placeholder(url_name))
        for perm, label, help_text, url_name in _STAFF_MENU
        if has_permission(user, perm)
    ]
    context = {"profile": profile_of(user), "menu": menu, "can_admin": user.is_staff}  # type: ignore[arg-type]
    return render(request, "identity/staff_home.html", context)
