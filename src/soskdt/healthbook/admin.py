"""Read-only administration of visits: look, never edit (visits change only by a facility's new version)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from soskdt.healthbook.models import (
    ClinicalNote,
    DischargePaper,
    DrugLine,
    FollowUp,
    RawDocument,
    RecordSummary,
    Referral,
    Result,
    ServiceLine,
    Visit,
    VisitVersion,
)


class ReadOnlyMixin:
    """Neither add, change nor delete; every field shown read-only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyTabular(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False
    show_change_link = False


class ReadOnlyStacked(ReadOnlyMixin, admin.StackedInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False


class DrugLineInline(ReadOnlyTabular):
    model = DrugLine
    readonly_fields = (
        "line_no",
        "drug_code",
        "name",
        "strength",
        "unit",
        "quantity",
        "dose",
        "usage",
        "amount",
        "ordered_at",
    )
    fields = readonly_fields


class ServiceLineInline(ReadOnlyTabular):
    model = ServiceLine
    readonly_fields = (
        "line_no",
        "service_code",
        "supply_code",
        "name",
        "supply_name",
        "category",
        "quantity",
        "amount",
        "ordered_at",
        "result_at",
    )
    fields = readonly_fields


class ResultInline(ReadOnlyTabular):
    model = Result
    readonly_fields = (
        "line_no",
        "service_code",
        "category",
        "indicator_name",
        "value",
        "unit",
        "conclusion",
        "result_at",
    )
    fields = readonly_fields


class ClinicalNoteInline(ReadOnlyTabular):
    model = ClinicalNote
    readonly_fields = ("line_no", "noted_at", "progress", "consultation", "surgery", "author_codes")
    fields = readonly_fields


class DocumentInline(ReadOnlyStacked):
    """One single-record paper of the visit, every column shown (``extra`` too)."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name not in ("id", "visit")]


class DischargePaperInline(DocumentInline):
    model = DischargePaper


class RecordSummaryInline(DocumentInline):
    model = RecordSummary


class ReferralInline(DocumentInline):
    model = Referral


class FollowUpInline(DocumentInline):
    model = FollowUp


class RawDocumentInline(ReadOnlyTabular):
    model = RawDocument
    readonly_fields = ("table", "payload")
    fields = readonly_fields


class VisitVersionInline(ReadOnlyTabular):
    model = VisitVersion
    readonly_fields = ("version", "submission_ref", "received_at", "replaced_at", "content_hash")
    fields = readonly_fields


@admin.register(Visit)
class VisitAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "facility_code",
        "ma_lk",
        "full_name",
        "visit_type",
        "admitted_at",
        "version",
        "is_linked",
    ]
    list_filter = ["visit_type", "link_method", "visit_year"]
    # Exact matches use the indexes; the name is a contains search.
    search_fields = ["=ma_lk", "=personal_id", "full_name"]
    search_help_text = _("Tìm theo mã liên kết (MA_LK), số định danh hoặc họ tên.")
    show_full_result_count = False
    list_select_related = False
    ordering = ["-id"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "facility",
                    "facility_code",
                    "ma_lk",
                    "version",
                    "received_at",
                    "submission_ref",
                    "content_hash",
                ]
            },
        ),
        (_("Liên kết công dân"), {"fields": ["citizen", "link_method", "linked_at"]}),
        (
            _("Hành chính"),
            {
                "fields": [
                    "patient_code",
                    "full_name",
                    "personal_id",
                    "birth_raw",
                    "birth_date",
                    "sex",
                    "blood_group",
                    "nationality_code",
                    "ethnicity_code",
                    "occupation_code",
                    "address",
                    "phone",
                    "card_codes",
                    "insurance_number",
                    "primary_care_codes",
                    "card_valid_from",
                    "card_valid_to",
                ]
            },
        ),
        (
            _("Đợt khám"),
            {
                "fields": [
                    "visit_type",
                    "patient_category",
                    "admitted_at",
                    "inpatient_at",
                    "discharged_at",
                    "reason",
                    "admission_diagnosis",
                    "discharge_diagnosis",
                    "main_icd",
                    "secondary_icds",
                    "traditional_icds",
                    "procedure_codes",
                    "treatment_days",
                    "treatment_method",
                    "outcome",
                    "discharge_type",
                    "department_codes",
                    "weight_kg",
                    "follow_up_dates",
                    "advice",
                    "referred_from",
                    "referred_to",
                ]
            },
        ),
        (
            _("Chi phí"),
            {
                "fields": [
                    "total_drugs",
                    "total_supplies",
                    "total_cost",
                    "total_insured_cost",
                    "patient_self_pay",
                    "patient_copay",
                    "insurance_paid",
                    "other_sources",
                ]
            },
        ),
        (_("Cảnh báo và trường khác"), {"fields": ["warnings", "raw_extras"]}),
    ]
    inlines = [
        DrugLineInline,
        ServiceLineInline,
        ResultInline,
        ClinicalNoteInline,
        DischargePaperInline,
        RecordSummaryInline,
        ReferralInline,
        FollowUpInline,
        RawDocumentInline,
        VisitVersionInline,
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [str(name) for _title, options in self.fieldsets for name in options["fields"]]

    @admin.display(boolean=True, description=_("đã liên kết"))
    def is_linked(self, obj: Visit) -> bool:
        return obj.citizen_id is not None
