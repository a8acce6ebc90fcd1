"""Reads of the demo data: personas by name, the logins table, and a fingerprint of everything built."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from soskdt.demo.models import DemoPersona, DemoStaffLink
from soskdt.identity.models import RoleAssignment, User
from soskdt.registry.models import Citizen, Facility, InsuranceCard, OrgUnit


def demo_exists() -> bool:
    """Tell whether ``soskdt demo`` has already loaded its data into this database."""
    return DemoPersona.objects.exists()


def persona(name: str) -> str:
    """Return the username of the demo persona ``name`` ("citizen", "clinician", "admin"…).

    ``"child"`` (no login) gives the personal ID of the ``parent`` persona's child whose visits the demo loaded.
    Raises LookupError when the demo has not been loaded or has no such persona.
    """
    username = DemoPersona.objects.filter(key=name).values_list("username", flat=True).first()
    if username is None:
        raise LookupError(f"no demo persona {name!r}: run `soskdt demo` first")
    return username


def personas() -> dict[str, str]:
    """Every login persona's key with its username, in the order of the logins table."""
    from soskdt.demo.builders.personas import PERSONA_KEYS

    rows = DemoPersona.objects.filter(key__in=PERSONA_KEYS).order_by("position", "key")
    return dict(rows.values_list("key", "username"))


def staff_links() -> QuerySet[DemoStaffLink]:
    """Demo staff accounts with the register person behind each (for a roll-out roster)."""
    return DemoStaffLink.objects.select_related(
        "user", "user__org_unit", "user__facility", "citizen"
    ).order_by("user__org_unit__code", "user__username")


def _card_on(personal_id: str, day: dt.date) -> InsuranceCard | None:
    return InsuranceCard.objects.filter(
        holder_personal_id=personal_id, valid_from__lte=day, valid_to__gte=day
    ).first()


def _latest_card(personal_id: str) -> InsuranceCard | None:
    return InsuranceCard.objects.filter(holder_personal_id=personal_id).order_by("-valid_to").first()


@dataclass(frozen=True, slots=True)
class LoginRow:
    key: str
    role: str
    username: str
    full_name: str
    note: str


def _demo_share_note() -> str:
    from soskdt.demo.builders.sharing import DEMO_SHARE_CODE, live_demo_share
    from soskdt.sharing.services import format_code

    if live_demo_share() is None:
        return ""
    return _("; mã chia sẻ sổ {code} (bác sĩ: Tra cứu sổ sức khỏe)").format(code=format_code(DEMO_SHARE_CODE))


def _demo_child_of(parent: Citizen) -> Citizen | None:
    """The parent persona's child the demo loaded visits for (a sibling may be younger)."""
    children = Citizen.objects.filter(representative=parent)
    recorded = DemoPersona.objects.filter(key="child").values_list("username", flat=True).first()
    if recorded is not None:
        return children.filter(personal_id=recorded).first()
    # A demo loaded before the child was recorded: the youngest child, as the table used to say.
    return children.order_by("-birth_year", "-birth_month", "-birth_day", "personal_id").first()


def _note(key: str, user: User, today: dt.date) -> tuple[str, str]:
    """The role label and what to try with this login."""
    citizen = user.citizen
    unit = user.org_unit.name if user.org_unit else ""
    facility = f"{user.facility.code} {user.facility.name}" if user.facility else ""
    if citizen is not None:
        card = _card_on(citizen.personal_id, today)
        latest = card or _latest_card(citizen.personal_id)
        number = latest.social_insurance_number if latest else "—"
        if key == "citizen":
            return _("Công dân mức 2 (citizen, level 2)"), _(
                "Thẻ BHYT còn hạn; tích hợp bằng 10 số cuối {number} → được chấp nhận"
            ).format(number=number)
        if key == "citizen_mismatch":
            return _("Công dân, thẻ lệch thông tin (card mismatch)"), _(
                "Thẻ {number} ghi họ tên khác sổ dân cư → yêu cầu tích hợp bị từ chối"
            ).format(number=number)
        if key == "citizen_expired":
            ended = latest.valid_to.strftime("%d/%m/%Y") if latest else "—"
            return _("Công dân, thẻ hết hạn (expired card)"), _(
                "Thẻ {number} hết hạn ngày {ended} → yêu cầu tích hợp bị từ chối"
            ).format(number=number, ended=ended)
        if key == "citizen_old_app":
            return _("Công dân, ứng dụng cũ (old app)"), _(
                "Ứng dụng phiên bản {version} (< 2.0.4) → phải cập nhật trước khi tích hợp thẻ {number}"
            ).format(version=user.app_version, number=number)
        if key == "citizen_level1":
            return _("Công dân mức 1 (citizen, level 1)"), _(
                "Chưa định danh mức 2 → chưa mở được Sổ SKĐT, chưa tích hợp được thẻ BHYT"
            )
        if key == "parent":
            child = _demo_child_of(citizen)
            if child is not None:
                return _("Cha/mẹ có con dưới 14 tuổi (parent)"), _(
                    "Đại diện hợp pháp ({relation}) của {child}, sinh năm {year}"
                ).format(
                    relation=child.representative_relation, child=child.full_name, year=child.birth_year
                ) + _demo_share_note()
            return _("Cha/mẹ có con dưới 14 tuổi (parent)"), ""
    labels = {
        "clinician": (_("Bác sĩ (clinician)"), _("{unit}, cơ sở KCB {facility}")),
        "submitter": (_("Cán bộ gửi dữ liệu (submitter)"), _("Gửi hồ sơ XML QĐ 130 của cơ sở {facility}")),
        "unit_reporter": (
            _("Cán bộ báo cáo đơn vị (unit reporter)"),
            _("Báo cáo tháng (Phụ lục 1) của {unit}"),
        ),
        "reception": (
            _("Nhân viên tiếp đón (reception)"),
            _("Ghi nhận người bệnh được hướng dẫn tại khu vực tiếp đón của {unit} (3 nút, trên điện thoại)"),
        ),
        "centre_admin": (_("Quản trị TTYT (centre admin)"), _("Quản trị {unit}")),
        "province_admin": (_("Quản trị Sở Y tế (province admin)"), _("Quản trị {unit}")),
        "auditor": (_("Kiểm soát viên (auditor)"), _("Xem nhật ký truy cập, {unit}")),
        "admin": (_("Quản trị hệ thống (superuser)"), _("Trang quản trị /admin/")),
    }
    role, note = labels.get(key, (key, ""))
    return role, note.format(unit=unit, facility=facility)


def login_rows(today: dt.date) -> list[LoginRow]:
    """The demo logins to try, with what should happen (for ``soskdt demo --logins``)."""
    wanted = personas()
    users = {
        u.username: u
        for u in User.objects.filter(username__in=wanted.values()).select_related(
            "citizen", "org_unit", "facility"
        )
    }
    rows: list[LoginRow] = []
    for key, username in wanted.items():
        user = users.get(username)
        if user is None:
            continue
        role, note = _note(key, user, today)
        rows.append(LoginRow(key, role, username, user.full_name, note))
    return rows


def _digest(lines: Iterable[tuple[object, ...]]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(repr(line).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def fingerprint() -> str:
    """A digest of the registers, accounts and personas (no database ids or creation times).

    Two builds with the same seed on the same day have the same fingerprint.
    """
    parts = [
        _digest(
            OrgUnit.objects.order_by("code").values_list(
                "code",
                "name",
                "kind",
                "parent__code",
                "province_code",
                "commune_code",
                "valid_from",
                "valid_to",
            )
        ),
        _digest(Facility.objects.order_by("code").values_list("code", "name", "level", "org_unit__code")),
        _digest(
            Citizen.objects.order_by("personal_id").values_list(
                "personal_id",
                "full_name",
                "birth_year",
                "birth_month",
                "birth_day",
                "sex",
                "occupation",
                "phone",
                "address",
                "commune_code",
                "representative__personal_id",
                "representative_relation",
            )
        ),
        _digest(
            InsuranceCard.objects.order_by("holder_personal_id", "valid_from", "code").values_list(
                "code",
                "holder_personal_id",
                "full_name",
                "birth_year",
                "birth_month",
                "birth_day",
                "sex",
                "primary_care_facility_code",
                "valid_from",
                "valid_to",
                "issuer",
            )
        ),
        _digest(
            User.objects.filter(Q(kind="citizen") | Q(demo_staff_link__isnull=False) | Q(username="admin"))
            .order_by("username")
            .values_list(
                "username",
                "kind",
                "full_name",
                "phone",
                "citizen__personal_id",
                "assurance_level",
                "assurance_granted_on",
                "app_version",
                "app_version_seen_at",
                "org_unit__code",
                "facility__code",
                "is_superuser",
            )
        ),
        _digest(
            RoleAssignment.objects.order_by("user__username", "role").values_list("user__username", "role")
        ),
        _digest(
            DemoStaffLink.objects.order_by("user__username").values_list(
                "user__username", "citizen__personal_id", "position"
            )
        ),
        _digest(DemoPersona.objects.order_by("key").values_list("key", "username")),
    ]
    return hashlib.sha256("".join(parts).encode()).hexdigest()
