"""Django admin for the registers; the citizen and card tables hold millions of rows."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from soskdt.registry.models import Citizen, Facility, InsuranceCard, OrgUnit


class ValidTodayFilter(admin.SimpleListFilter):
    """Filter rows whose validity period covers today (field names set per model)."""

    title = _("hiệu lực")
    parameter_name = "hieu_luc"
    start_field = "valid_from"
    end_field = "valid_to"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("today", _("Còn hiệu lực hôm nay")), ("ended", _("Đã hết hiệu lực"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = timezone.localdate()
        active = Q(**{f"{self.start_field}__lte": today}) & (
            Q(**{f"{self.end_field}__isnull": True}) | Q(**{f"{self.end_field}__gte": today})
        )
        if self.value() == "today":
            return queryset.filter(active)
        if self.value() == "ended":
            return queryset.filter(**{f"{self.end_field}__lt": today})
        return queryset


class ActiveTodayFilter(ValidTodayFilter):
    title = _("hoạt động")
    start_field = "active_from"
    end_field = "active_to"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("today", _("Đang hoạt động")), ("ended", _("Đã ngừng hoạt động"))]


class ExactIdentifierSearchMixin:
    """Search by an exact identifier when the term has its shape, else by the start of the name.

    A plain ``icontains`` over millions of rows is a full scan; exact identifiers use the unique index.
    """

    # (predicate on the term, field to match exactly)
    identifier_searches: tuple[tuple[Any, str], ...] = ()
    name_field = "full_name"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        for matches, field in self.identifier_searches:
            if matches(term):
                return queryset.filter(**{field: term.upper()}), False
        return queryset.filter(**{f"{self.name_field}__istartswith": term}), False


def _digits(length: int) -> Any:
    return lambda term: len(term) == length and term.isdigit()


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "parent",
        "province_code",
        "commune_code",
        "valid_from",
        "valid_to",
    )
    list_filter = ("kind", ValidTodayFilter)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "province_code", "org_unit", "active_from", "active_to")
    list_filter = ("level", ActiveTodayFilter)
    search_fields = ("code", "name")
    autocomplete_fields = ("org_unit",)
    list_select_related = ("org_unit",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Citizen)
class CitizenAdmin(ExactIdentifierSearchMixin, admin.ModelAdmin):
    list_display = (
        "personal_id",
        "full_name",
        "birth_date_display",
        "sex",
        "province_code",
        "representative",
    )
    list_filter = ("sex",)
    # search_fields enables the search box and other admins' autocompletes; get_search_results does the work.
    search_fields = ("=personal_id", "^full_name")
    search_help_text = _("Nhập đủ 12 số định danh cá nhân, hoặc phần đầu của họ tên.")
    identifier_searches = ((_digits(12), "personal_id"),)
    raw_id_fields = ("representative",)
    list_select_related = ("representative",)
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ("created_at", "updated_at")

    @admin.display(description=_("ngày sinh"))
    def birth_date_display(self, citizen: Citizen) -> str:
        return citizen.birth_date.display()


@admin.register(InsuranceCard)
class InsuranceCardAdmin(ExactIdentifierSearchMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "full_name",
        "holder_personal_id",
        "valid_from",
        "valid_to",
        "issuer",
        "primary_care_facility_code",
    )
    list_filter = ("issuer", ValidTodayFilter)
    search_fields = ("=code", "=social_insurance_number", "=holder_personal_id", "^full_name")
    search_help_text = _(
        "Nhập mã thẻ 15 ký tự, mã số BHXH 10 số, số định danh 12 số, hoặc phần đầu của họ tên."
    )
    identifier_searches = (
        (lambda term: len(term) == 15, "code"),
        (_digits(10), "social_insurance_number"),
        (_digits(12), "holder_personal_id"),
    )
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ("created_at", "updated_at")
