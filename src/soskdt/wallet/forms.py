"""The *Nhập thông tin tích hợp* form; the rules themselves live in services.submit_link_request."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from soskdt.registry.models import CardIssuer
from soskdt.wallet.models import DocumentType

# VNeID lists driving licences too; SoSKDT shows the option, disabled, so the screen matches the poster.
DRIVING_LICENCE = "GPLX"
_SOON = {DRIVING_LICENCE}


class DocumentTypeSelect(forms.Select):
    """A select whose placeholder cannot be re-chosen and whose not-yet-available options are disabled."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if value in _SOON:
            option["attrs"]["disabled"] = True
        if value == "":
            option["attrs"]["disabled"] = True
        return option


class CardLinkRequestForm(forms.Form):
    document_type = forms.ChoiceField(
        label=_("Loại thông tin"),
        choices=[
            ("", _("Chọn loại thông tin")),
            (DRIVING_LICENCE, _("Giấy phép lái xe (sắp có)")),
            (DocumentType.BHYT.value, _("Thẻ BHYT")),
        ],
        # The placeholder starts selected, as in the app; the browser would otherwise pick "Thẻ BHYT".
        initial="",
        widget=DocumentTypeSelect(attrs={"class": "document-type"}),
        error_messages={"required": _("Chọn loại thông tin."), "invalid_choice": _("Chọn loại thông tin.")},
    )
    issuer = forms.ChoiceField(
        label=_("Cơ quan cấp"),
        choices=CardIssuer.choices,
        initial=CardIssuer.VSS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Chọn cơ quan cấp thẻ.")},
    )
    value = forms.CharField(
        label=_("Số thẻ BHYT"),
        max_length=20,
        error_messages={"required": _("Nhập 10 kí tự cuối trên mã số thẻ BHYT.")},
        widget=forms.TextInput(
            attrs={
                "placeholder": _("Nhập 10 kí tự cuối trên mã số thẻ BHYT"),
                "inputmode": "numeric",
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "aria-describedby": "value-help",
            }
        ),
    )

    def clean_document_type(self) -> str:
        value = self.cleaned_data["document_type"]
        if value in _SOON:
            raise forms.ValidationError(_("Giấy phép lái xe sắp có. Hiện chỉ tích hợp được Thẻ BHYT."))
        return str(value)
