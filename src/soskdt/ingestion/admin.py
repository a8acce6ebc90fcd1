"""Administration of the feed: submissions are looked at, never edited; keys are created with the command
``soskdt facility-key create CODE`` (the plaintext is shown once) and only revoked here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from soskdt.ingestion import services
from soskdt.ingestion.models import FacilityApiKey, Submission


@admin.register(FacilityApiKey)
class FacilityApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("facility", "prefix", "label", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("facility__code", "facility__name", "prefix", "label")
    readonly_fields = ("facility", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Thu hồi các khóa đã chọn"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[FacilityApiKey]) -> None:
        for key in queryset:
            services.revoke_api_key(key=key)


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "received_at",
        "facility",
        "file_name",
        "source",
        "status",
        "visits_total",
        "visits_rejected",
        "visits_unlinked",
    )
    list_filter = ("status", "source")
    search_fields = ("file_name", "sha256", "facility__code", "envelope_facility_code")
    date_hierarchy = "received_at"
    list_select_related = ("facility",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Submission._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
