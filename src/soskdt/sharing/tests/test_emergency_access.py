"""Break-the-glass: a reason and a text, three hours, the citizen told, the facility's auditor reviews."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from soskdt import testing
from soskdt.core.errors import DomainError
from soskdt.healthbook.models import AccessLog
from soskdt.identity.models import Role, User
from soskdt.sharing import services
from soskdt.sharing.models import EmergencyAccess, Notice, NoticeKind
from soskdt.sharing.tests.conftest import CTX, SharedBook, denials, successes

pytestmark = pytest.mark.django_db

TEXT = "Bất tỉnh sau tai nạn giao thông, không có người nhà"


def start(clinician: User, book: SharedBook, **kwargs: Any) -> EmergencyAccess:
    kwargs.setdefault("reason", "unconscious")
    kwargs.setdefault("reason_text", TEXT)
    return services.start_emergency(
        viewer=clinician, personal_id=book.citizen.personal_id, context=CTX, **kwargs
    )


def test_emergency_access_lasts_three_hours_and_notifies_the_citizen(
    book: SharedBook, clinician: User
) -> None:
    emergency = start(clinician, book)
    assert emergency.expires_at - emergency.started_at == dt.timedelta(hours=3)
    (row,) = successes(book.citizen, clinician)
    assert (row.action, row.actor_kind, row.facility_id) == (
        "emergency.start",
        "emergency",
        clinician.facility_id,
    )
    notice = Notice.objects.get(access_log=row)
    assert notice.kind == NoticeKind.EMERGENCY_READ and notice.emergency == emergency


def test_emergency_reads_are_logged_as_emergency_and_hide_hiv(
    client: Any, book: SharedBook, clinician: User
) -> None:
    emergency = start(clinician, book)
    client.force_login(clinician)
    home = client.get(reverse("sharing:shared_book:book", args=[emergency.public_id]))
    assert home.status_code == 200
    assert "Truy cập khẩn cấp" in home.content.decode()
    assert (
        client.get(reverse("sharing:shared_book:visit", args=[emergency.public_id, book.hiv.pk])).status_code
        == 404
    )
    assert (
        client.get(
            reverse("sharing:shared_book:visit", args=[emergency.public_id, book.v2024.pk])
        ).status_code
        == 200
    )
    kinds = {r.actor_kind for r in AccessLog.objects.filter(actor=clinician)}
    assert kinds == {"emergency"}
    assert Notice.objects.filter(citizen=book.citizen, kind=NoticeKind.EMERGENCY_READ).count() == 3


def test_emergency_access_ends_after_three_hours(client: Any, book: SharedBook, clinician: User) -> None:
    emergency = start(clinician, book)
    EmergencyAccess.objects.filter(pk=emergency.pk).update(
        expires_at=emergency.started_at + dt.timedelta(hours=3) - dt.timedelta(hours=4)
    )
    client.force_login(clinician)
    assert client.get(reverse("sharing:shared_book:book", args=[emergency.public_id])).status_code == 404
    assert len(denials(book.citizen, clinician)) == 1


def test_emergency_access_is_bound_to_its_clinician(
    client: Any, book: SharedBook, clinician: User, colleague: User
) -> None:
    emergency = start(clinician, book)
    client.force_login(colleague)
    assert client.get(reverse("sharing:shared_book:book", args=[emergency.public_id])).status_code == 404
    assert successes(book.citizen, colleague) == []


@pytest.mark.parametrize(("reason", "text"), [("", TEXT), ("whim", TEXT), ("other", ""), ("other", "ngắn")])
def test_a_reason_from_the_list_and_a_text_are_required(
    book: SharedBook, clinician: User, reason: str, text: str
) -> None:
    with pytest.raises(DomainError):
        start(clinician, book, reason=reason, reason_text=text)
    assert not EmergencyAccess.objects.exists()


def test_unknown_person_is_404(clinician: User, db: None) -> None:
    with pytest.raises(services.NotFound):
        services.start_emergency(
            viewer=clinician, personal_id="079999999999", reason="other", reason_text=TEXT, context=CTX
        )


def test_the_facilitys_auditor_sees_and_reviews_it(
    client: Any, book: SharedBook, clinician: User, auditor: User
) -> None:
    emergency = start(clinician, book)
    other_auditor = testing.make_staff(roles=[Role.AUDITOR])  # another unit: sees nothing
    client.force_login(other_auditor)
    assert TEXT not in client.get(reverse("sharing:emergency_review")).content.decode()
    client.force_login(auditor)
    page = client.get(reverse("sharing:emergency_review"))
    assert (
        page.status_code == 200 and TEXT in page.content.decode() and "Chưa rà soát" in page.content.decode()
    )
    done = client.post(
        reverse("sharing:emergency_review"),
        {"emergency": emergency.pk, "outcome": "justified", "comment": "Đúng quy trình"},
    )
    assert done.status_code == 302
    emergency.refresh_from_db()
    assert emergency.reviewed_by == auditor and emergency.review_outcome == "justified"
    client.force_login(other_auditor)
    refused = client.post(
        reverse("sharing:emergency_review"), {"emergency": emergency.pk, "outcome": "not_justified"}
    )
    assert refused.status_code == 404


def test_the_review_page_is_for_auditors_only(client: Any, clinician: User, citizen: User) -> None:
    for user in (clinician, citizen):
        client.force_login(user)
        assert client.get(reverse("sharing:emergency_review")).status_code == 404


def test_the_citizen_sees_the_emergency_highlighted(client: Any, book: SharedBook, clinician: User) -> None:
    start(clinician, book)
    client.force_login(book.owner)
    page = client.get(reverse("sharing:access_log")).content.decode()
    assert 'class="emergency"' in page and clinician.full_name in page
    notices = client.get(reverse("sharing:notices")).content.decode()
    assert "Truy cập khẩn cấp" in notices and "Người bệnh bất tỉnh" in notices
