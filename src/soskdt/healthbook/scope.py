"""What part of a book a reader may see: years, categories, and HIV-related items (DOMAIN.md §6).

The owner and their representatives read with ``Scope.full()``. A clinician reads within the scope of the
citizen's share; HIV-related items (XML6, antiretroviral drugs, HIV tests, HIV diagnoses) are hidden unless
the citizen ticked that category explicitly (HIV law: never shown to a clinician without consent).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

#: Categories a share can grant, in the order the citizen sees them.
CATEGORIES: dict[str, object] = {
    "visits": _("Đợt khám, chẩn đoán, tóm tắt bệnh án"),
    "lab": _("Xét nghiệm"),
    "imaging": _("Chẩn đoán hình ảnh"),
    "functional": _("Thăm dò chức năng"),
    "drugs": _("Thuốc đã điều trị"),
    "procedures": _("Phẫu thuật, thủ thuật"),
}
HIV_CATEGORY = "hiv"
HIV_LABEL = _("Thông tin liên quan HIV/AIDS (chỉ chia sẻ khi bạn đồng ý rõ ràng)")

#: Book tab → the share category that grants it.
TAB_CATEGORY = {
    "lab": "lab",
    "imaging": "imaging",
    "functional": "functional",
    "drugs": "drugs",
    "surgery": "procedures",
    "procedure": "procedures",
    "procedures": "procedures",
}

# Antiretroviral active ingredients (WHO ATC J05AE/J05AF/J05AG/J05AJ/J05AR, those used in Viet Nam).
ARV_INGREDIENTS = (
    "tenofovir",
    "lamivudin",
    "lamivudine",
    "efavirenz",
    "dolutegravir",
    "zidovudin",
    "zidovudine",
    "nevirapin",
    "nevirapine",
    "abacavir",
    "lopinavir",
    "ritonavir",
    "emtricitabin",
    "emtricitabine",
    "atazanavir",
    "darunavir",
    "raltegravir",
    "rilpivirin",
    "rilpivirine",
    "stavudin",
    "didanosin",
)
_ARV_RE = re.compile("|".join(ARV_INGREDIENTS), re.IGNORECASE)
_HIV_TEST_RE = re.compile(r"\bHIV\b|CD4|tải lượng vi rút|tai luong virus|viral load", re.IGNORECASE)
# B20–B24 HIV disease, Z21 asymptomatic HIV infection, R75 inconclusive HIV test, O98.7 HIV in pregnancy.
_HIV_ICD_RE = re.compile(r"^(B2[0-4]|Z21|R75|O98\.7)")


def is_arv_drug(*texts: str | None) -> bool:
    """Tell whether a drug (name, active ingredient) is an antiretroviral."""
    return any(t and _ARV_RE.search(t) for t in texts)


def is_hiv_test(*texts: str | None) -> bool:
    """Tell whether a service or result (name, indicator) is an HIV test."""
    return any(t and _HIV_TEST_RE.search(t) for t in texts)


def is_hiv_diagnosis(code: str | None) -> bool:
    return bool(code and _HIV_ICD_RE.match(code.strip().upper()))


@dataclass(frozen=True, slots=True)
class Scope:
    """A reader's window on a book. ``years=None`` means every year."""

    years: frozenset[int] | None = None
    categories: frozenset[str] = frozenset(CATEGORIES)
    include_hiv: bool = False

    @classmethod
    def full(cls) -> Scope:
        """The owner's (and representatives') view: everything, HIV-related items included."""
        return cls(years=None, categories=frozenset(CATEGORIES), include_hiv=True)

    def allows_year(self, year: int | None) -> bool:
        return self.years is None or (year is not None and year in self.years)

    def allows_category(self, category: str) -> bool:
        return category in self.categories

    def allows_tab(self, tab: str) -> bool:
        category = TAB_CATEGORY.get(tab)
        return category is not None and category in self.categories

    def as_dict(self) -> dict[str, object]:
        return {
            "years": sorted(self.years) if self.years is not None else None,
            "categories": sorted(self.categories),
            "include_hiv": self.include_hiv,
        }
