"""Reference registers: org units, facilities, citizens (population register), insurance cards."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from soskdt.core.dates import PartialDate
from soskdt.core.models import TimeStampedModel


class Sex(models.TextChoices):
    # Codes as QĐ 130 GIOI_TINH spells them.
    MALE = "1", _("Nam")
    FEMALE = "2", _("Nữ")
    UNDETERMINED = "3", _("Chưa xác định")


class OrgUnitKind(models.TextChoices):
    PROVINCE_DEPARTMENT = "province_department", _("Sở Y tế")
    HEALTH_CENTRE = "health_centre", _("Trung tâm Y tế")
    DEPARTMENT = "department", _("Khoa/Phòng")
    COMMUNE_STATION = "commune_station", _("Trạm Y tế")
    HOSPITAL = "hospital", _("Bệnh viện")
    OTHER = "other", _("Khác")


class OrgUnit(TimeStampedModel):
    """A node of the health organisation tree, valid over a period.

    A reorganisation closes a unit (``valid_to``) and opens its successor, so reports for a period
    roll up over the units that existed then.
    """

    code = models.CharField(_("mã đơn vị"), max_length=20, unique=True)
    name = models.CharField(_("tên đơn vị"), max_length=255)
    kind = models.CharField(_("loại đơn vị"), max_length=30, choices=OrgUnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("đơn vị cấp trên"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    province_code = models.CharField(_("mã tỉnh"), max_length=3, blank=True)
    # The commune a commune health station serves (the code citizens carry in ``Citizen.commune_code``): a
    # centre's territory is the communes of the stations below it (the roll-out coverage indicator).
    commune_code = models.CharField(_("mã xã phụ trách"), max_length=5, blank=True)
    valid_from = models.DateField(_("hiệu lực từ"), default=dt.date(2000, 1, 1))
    valid_to = models.DateField(_("hiệu lực đến"), null=True, blank=True)

    class Meta:
        verbose_name = _("đơn vị")
        verbose_name_plural = _("đơn vị")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="registry_orgunit_valid_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    def is_active_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def clean(self) -> None:
        """Refuse a parent that is this unit or below it: the tree would become a loop."""
        seen: set[int] = set()
        parent = self.parent
        while parent is not None and parent.pk not in seen:
            if self.pk is not None and parent.pk == self.pk:
                raise ValidationError(
                    {
                        "parent": _(
                            "Đơn vị cấp trên không thể là chính đơn vị này hoặc đơn vị cấp dưới của nó."
                        )
                    }
                )
            seen.add(parent.pk)
            parent = parent.parent


class FacilityLevel(models.TextChoices):
    # Levels of the Law on Medical Examination and Treatment 2023 (Luật 15/2023/QH15).
    INITIAL = "initial", _("Cấp khám bệnh, chữa bệnh ban đầu")
    BASIC = "basic", _("Cấp khám bệnh, chữa bệnh cơ bản")
    SPECIALISED = "specialised", _("Cấp khám bệnh, chữa bệnh chuyên sâu")


class Facility(TimeStampedModel):
    """A health facility (*cơ sở khám chữa bệnh*) identified by its 5-character code."""

    code = models.CharField(_("mã cơ sở KCB"), max_length=5, unique=True)
    name = models.CharField(_("tên cơ sở"), max_length=255)
    level = models.CharField(
        _("cấp chuyên môn"), max_length=20, choices=FacilityLevel.choices, default=FacilityLevel.BASIC
    )
    province_code = models.CharField(_("mã tỉnh"), max_length=3)
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("đơn vị quản lý"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="facilities",
    )
    active_from = models.DateField(_("hoạt động từ"), default=dt.date(2000, 1, 1))
    active_to = models.DateField(_("hoạt động đến"), null=True, blank=True)

    class Meta:
        verbose_name = _("cơ sở khám chữa bệnh")
        verbose_name_plural = _("cơ sở khám chữa bệnh")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Citizen(TimeStampedModel):
    """A person of the population register, identified by the 12-digit personal ID (NĐ 102/2025)."""

    personal_id = models.CharField(_("số định danh cá nhân"), max_length=12, unique=True)
    full_name = models.CharField(_("họ và tên"), max_length=255)
    birth_year = models.PositiveSmallIntegerField(_("năm sinh"))
    birth_month = models.PositiveSmallIntegerField(_("tháng sinh"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("ngày sinh"), null=True, blank=True)
    sex = models.CharField(_("giới tính"), max_length=1, choices=Sex.choices)
    ethnicity = models.CharField(_("dân tộc"), max_length=50, blank=True)
    nationality = models.CharField(_("quốc tịch"), max_length=50, default="Việt Nam", blank=True)
    occupation = models.CharField(_("nghề nghiệp"), max_length=100, blank=True)
    phone = models.CharField(_("số điện thoại"), max_length=15, blank=True)
    address = models.CharField(_("địa chỉ"), max_length=1024, blank=True)
    province_code = models.CharField(_("mã tỉnh"), max_length=3, blank=True)
    commune_code = models.CharField(_("mã xã"), max_length=5, blank=True)
    representative = models.ForeignKey(
        "self",
        verbose_name=_("người đại diện hợp pháp"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="represented",
    )
    representative_relation = models.CharField(_("quan hệ với người đại diện"), max_length=50, blank=True)
    date_of_death = models.DateField(_("ngày mất"), null=True, blank=True)

    class Meta:
        verbose_name = _("công dân")
        verbose_name_plural = _("công dân")
        indexes = [
            models.Index(fields=["full_name"], name="registry_citizen_name_idx"),
            # Roll-out coverage counts the living residents of a district's communes (registry.selectors).
            models.Index(fields=["commune_code"], name="registry_citizen_commune_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.personal_id})"

    @property
    def birth_date(self) -> PartialDate:
        return PartialDate(self.birth_year, self.birth_month, self.birth_day)


class CardIssuer(models.TextChoices):
    VSS = "BHXH_VN", _("BHXH Việt Nam")
    POLICE = "BHXH_CAND", _("BHXH Công an nhân dân")


class InsuranceCard(TimeStampedModel):
    """A BHYT card of the insurance register, valid over a period.

    A person may hold several cards over time; at most one is valid on a given day (checked by the
    import service, because SQLite has no exclusion constraints).
    """

    code = models.CharField(_("mã thẻ BHYT"), max_length=15)
    social_insurance_number = models.CharField(_("mã số BHXH"), max_length=10, db_index=True)
    holder_personal_id = models.CharField(_("số định danh của chủ thẻ"), max_length=12, db_index=True)
    full_name = models.CharField(_("họ và tên"), max_length=255)
    birth_year = models.PositiveSmallIntegerField(_("năm sinh"))
    birth_month = models.PositiveSmallIntegerField(_("tháng sinh"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("ngày sinh"), null=True, blank=True)
    sex = models.CharField(_("giới tính"), max_length=1, choices=Sex.choices)
    primary_care_facility_code = models.CharField(_("nơi đăng ký KCB ban đầu"), max_length=5)
    valid_from = models.DateField(_("giá trị từ"))
    valid_to = models.DateField(_("giá trị đến"))
    issuer = models.CharField(
        _("cơ quan cấp"), max_length=10, choices=CardIssuer.choices, default=CardIssuer.VSS
    )

    class Meta:
        verbose_name = _("thẻ BHYT")
        verbose_name_plural = _("thẻ BHYT")
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="registry_card_code_from_uniq"),
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")), name="registry_card_valid_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.valid_from:%d/%m/%Y}–{self.valid_to:%d/%m/%Y})"

    @property
    def group(self) -> str:
        return self.code[:2]

    @property
    def benefit_level(self) -> int:
        return int(self.code[2])

    @property
    def birth_date(self) -> PartialDate:
        return PartialDate(self.birth_year, self.birth_month, self.birth_day)

    def is_valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_to
