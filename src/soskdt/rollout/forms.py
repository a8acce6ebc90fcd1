"""Forms of the roll-out pages; the rules themselves live in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from soskdt.core import reasons
from soskdt.rollout.models import REASON_CATEGORY, PrintKind, RosterEntry

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_TEXTAREA = forms.Textarea(attrs={"rows": 3})


class RosterEntryForm(forms.Form):
    full_name = forms.CharField(label=_("Họ và tên"), max_length=255)
    personal_id = forms.CharField(
        label=_("Số định danh cá nhân"),
        max_length=12,
        min_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]{12}", "autocomplete": "off"}),
    )
    position = forms.CharField(label=_("Chức vụ"), max_length=100, required=False)
    department = forms.CharField(
        label=_("Khoa/Phòng"),
        max_length=255,
        required=False,
        help_text=_("Để trống nếu là chính đơn vị."),
    )
    has_smartphone = forms.TypedChoiceField(
        label=_("Có điện thoại thông minh"),
        choices=[("1", _("Có")), ("0", _("Không"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="1",
    )
    active_from = forms.DateField(label=_("Ngày bắt đầu"), widget=_DATE)
    active_to = forms.DateField(label=_("Ngày kết thúc"), widget=_DATE, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["personal_id"].disabled = True


class StatusForm(forms.Form):
    """The quick edit of one status: done or not yet, and why not."""

    done = forms.TypedChoiceField(
        label=_("Trạng thái"),
        choices=[("1", _("Đã thực hiện")), ("0", _("Chưa thực hiện"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    reason_code = forms.ChoiceField(label=_("Lý do chưa thực hiện"), required=False)
    reason_text = forms.CharField(label=_("Lý do khác (ghi rõ)"), max_length=255, required=False)

    def __init__(self, *args: Any, indicator: str, reason_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = REASON_CATEGORY[indicator]
        reason = self.fields["reason_code"]
        assert isinstance(reason, forms.ChoiceField)
        reason.choices = [("", _("— chọn lý do —")), *reasons.choices(category)]
        if reason_only:
            self.fields["done"].initial = "0"
            self.fields["done"].disabled = True


class ReportTextsForm(forms.Form):
    reception_note = forms.CharField(
        label=_("2. Triển khai khu vực tiếp đón (bổ sung)"), required=False, widget=_TEXTAREA
    )
    training_note = forms.CharField(
        label=_("3. Công tác tập huấn (bổ sung)"), required=False, widget=_TEXTAREA
    )
    printing_note = forms.CharField(
        label=_("4. Công tác in ấn tài liệu, tuyên truyền (bổ sung)"), required=False, widget=_TEXTAREA
    )
    difficulties = forms.CharField(label=_("II. Khó khăn, vướng mắc"), required=False, widget=_TEXTAREA)
    proposals = forms.CharField(label=_("III. Đề xuất, kiến nghị"), required=False, widget=_TEXTAREA)


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("Ý kiến"), required=False, widget=_TEXTAREA, max_length=4000)


class TrainingForm(forms.Form):
    held_on = forms.DateField(label=_("Ngày tập huấn"), widget=_DATE)
    topic = forms.CharField(
        label=_("Nội dung"),
        max_length=255,
        initial=_("Hướng dẫn sử dụng và khai thác thông tin Sổ sức khỏe điện tử trên VNeID"),
    )
    attendees = forms.ModelMultipleChoiceField(
        label=_("Cán bộ tham dự"),
        queryset=RosterEntry.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_attendees = forms.IntegerField(
        label=_("Người tham dự khác (ngoài danh sách)"), min_value=0, initial=0, required=False
    )
    note = forms.CharField(label=_("Ghi chú"), required=False, widget=_TEXTAREA)

    def __init__(self, *args: Any, roster: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["attendees"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = roster
        field.label_from_instance = lambda e: f"{e.full_name} — {e.position or ''}"  # type: ignore[method-assign,assignment]


class PrintingForm(forms.Form):
    recorded_on = forms.DateField(label=_("Ngày thực hiện"), widget=_DATE)
    kind = forms.ChoiceField(label=_("Loại"), choices=PrintKind.choices)
    quantity = forms.IntegerField(label=_("Số lượng"), min_value=1, initial=1)
    colour = forms.TypedChoiceField(
        label=_("In"),
        choices=[("1", _("In màu")), ("0", _("Trắng đen"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="1",
    )
    location = forms.CharField(
        label=_("Nơi dán, đặt"),
        max_length=255,
        required=False,
        initial=_("Khu vực tiếp đón bệnh nhân"),
        help_text=_("Ví dụ: khu vực tiếp đón bệnh nhân, các khoa điều trị."),
    )
    note = forms.CharField(label=_("Ghi chú"), max_length=255, required=False)


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Tên đợt triển khai"), max_length=255)
    letter_reference = forms.CharField(label=_("Số công văn"), max_length=60)
    starts_on = forms.DateField(label=_("Tháng báo cáo đầu tiên"), widget=_DATE)
    target_date = forms.DateField(label=_("Thời hạn đạt chỉ tiêu"), widget=_DATE)
    target_level2_percent = forms.IntegerField(
        label=_("Chỉ tiêu tài khoản mức 2 (% cán bộ)"), min_value=0, max_value=100
    )
    target_smartphone_percent = forms.IntegerField(
        label=_(
            "Chỉ tiêu cài đặt VNeID, tích hợp thẻ BHYT, sử dụng Sổ SKĐT (% cán bộ có điện thoại thông minh)"
        ),
        min_value=0,
        max_value=100,
    )
    deadline_day = forms.IntegerField(
        label=_("Hạn nộp báo cáo: trước ngày … của tháng sau"), min_value=2, max_value=28
    )
    reminder_days_before = forms.IntegerField(
        label=_("Gửi nhắc nhở trước hạn (ngày)"), min_value=0, max_value=27
    )


class CoverageForm(forms.Form):
    as_of = forms.DateField(label=_("Số liệu đến ngày"), widget=_DATE)
    books_integrated = forms.IntegerField(label=_("Số trường hợp đã tích hợp Sổ SKĐT"), min_value=0)
    population = forms.IntegerField(label=_("Dân số (nhân khẩu)"), min_value=1)
    source = forms.CharField(label=_("Nguồn số liệu"), max_length=120, required=False, initial="Cục C06")


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Tệp Excel (.xlsx)"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"})
    )
