"""Django admin for the wallet: read-only, because every change goes through wallet.services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from soskdt.wallet.models import CardLinkRequest, LinkedCard


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CardLinkRequest)
class CardLinkRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "citizen",
        "typed_value",
        "issuer",
        "status",
        "reason_code",
        "created_at",
        "decided_at",
    )
    list_filter = ("status", "reason_code", "issuer")
    list_select_related = ("citizen",)
    search_fields = ("=citizen__personal_id", "=social_insurance_number")
    raw_id_fields = ("account", "citizen", "card")
    date_hierarchy = "created_at"


@admin.register(LinkedCard)
class LinkedCardAdmin(ReadOnlyAdmin):
    list_display = ("citizen", "card", "linked_at", "replaced_at")
    list_select_related = ("citizen", "card")
    search_fields = ("=citizen__personal_id", "=card__social_insurance_number")
    raw_id_fields = ("citizen", "card", "request")
