"""Share lifetime bounds, the code's shape, wrong codes (per clinician and per share), revocation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from soskdt.core.errors import DomainError
from soskdt.healthbook.models import AccessLog
from soskdt.identity.models import User
from soskdt.sharing import services
from soskdt.sharing.models import MAX_WRONG_TRIES, ShareGrant
from soskdt.sharing.tests.conftest import CTX, SharedBook, denials, open_session, share

pytestmark = pytest.mark.django_db


def test_a_share_lasts_four_hours_by_default(book: SharedBook) -> None:
    created = share(book.owner)
    lifetime = created.share.expires_at - created.share.created_at
    assert lifetime == dt.timedelta(hours=4)


def test_a_share_may_last_thirty_days_but_not_longer(book: SharedBook) -> None:
    created = share(book.owner, lifetime=dt.timedelta(days=30))
    assert created.share.expires_at - created.share.created_at == dt.timedelta(days=30)
    with pytest.raises(DomainError) as exc:
        share(book.owner, lifetime=dt.timedelta(days=30, seconds=1))
    assert exc.value.code == services.SHARE_LIFETIME_INVALID
    with pytest.raises(DomainError):
        share(book.owner, lifetime=dt.timedelta(minutes=5))


def test_the_code_is_eight_unambiguous_characters_and_only_its_digest_is_stored(book: SharedBook) -> None:
    created = share(book.owner)
    assert len(created.code) == 8
    assert set(created.code) <= set(services.CODE_ALPHABET)
    assert not set(created.code) & set("01OI")
    assert created.display_code == f"{created.code[:4]}-{created.code[4:]}"
    stored = ShareGrant.objects.get(pk=created.share.pk)
    assert created.code not in str(stored.__dict__)
    assert stored.code_digest == services.code_digest(created.code)


def test_hiv_is_not_shared_unless_ticked(book: SharedBook) -> None:
    assert share(book.owner).share.include_hiv is False
    assert share(book.owner, include_hiv=True).share.include_hiv is True


def test_a_share_needs_a_category(book: SharedBook) -> None:
    with pytest.raises(DomainError) as exc:
        share(book.owner, categories=[])
    assert exc.value.code == services.SHARE_CATEGORIES_EMPTY
    with pytest.raises(DomainError):
        share(book.owner, categories=["secrets"])


def test_ten_wrong_codes_on_the_qr_link_disable_the_share(
    book: SharedBook, clinician: User, colleague: User
) -> None:
    created = share(book.owner)
    public_id = created.share.public_id
    clinicians = [clinician, colleague]
    for i in range(MAX_WRONG_TRIES):
        with pytest.raises(services.NotFound):
            services.open_share(viewer=clinicians[i % 2], code="ZZZZZZZZ", context=CTX, public_id=public_id)
    share_row = ShareGrant.objects.get(pk=created.share.pk)
    assert share_row.wrong_tries == MAX_WRONG_TRIES
    assert share_row.disabled_at is not None
    assert share_row.status() == "disabled"
    # even the right code no longer opens it
    with pytest.raises(services.NotFound):
        services.open_share(viewer=clinician, code=created.code, context=CTX, public_id=public_id)
    assert (
        len(denials(book.citizen, clinician)) + len(denials(book.citizen, colleague)) == MAX_WRONG_TRIES + 1
    )


def test_nine_wrong_codes_then_the_right_one_still_opens(
    book: SharedBook, clinician: User, colleague: User
) -> None:
    created = share(book.owner)
    for i in range(MAX_WRONG_TRIES - 1):
        with pytest.raises(services.NotFound):
            services.open_share(
                viewer=[clinician, colleague][i % 2],
                code="ZZZZZZZZ",
                context=CTX,
                public_id=created.share.public_id,
            )
    session = services.open_share(
        viewer=clinician, code=created.code, context=CTX, public_id=created.share.public_id
    )
    assert session.share_id == created.share.pk


def test_ten_wrong_codes_lock_the_clinician_for_a_while(
    client: Any, book: SharedBook, clinician: User
) -> None:
    created = share(book.owner)
    for _ in range(services.CODE_MAX_FAILURES):
        with pytest.raises(services.NotFound):
            services.open_share(viewer=clinician, code="ZZZZ-ZZZZ", context=CTX)
    with pytest.raises(DomainError) as exc:
        services.open_share(viewer=clinician, code=created.code, context=CTX)
    assert exc.value.code == services.SHARE_CODE_LOCKED and exc.value.status == 429
    client.force_login(clinician)
    page = client.get(reverse("sharing:home"))
    assert 'data-code="SHARE_CODE_LOCKED"' in page.content.decode()
    # a typed wrong code names no share: nothing is written in anybody's book
    assert not AccessLog.objects.filter(actor=clinician).exists()


def test_revoking_stops_the_code_at_once(book: SharedBook, clinician: User) -> None:
    created = share(book.owner)
    session = open_session(clinician, created)
    services.revoke_share(viewer=book.owner, share_id=created.share.pk, context=CTX)
    session.refresh_from_db()
    assert session.ended_at is not None
    with pytest.raises(services.NotFound):
        open_session(clinician, created)
    # revoking twice changes nothing
    again = services.revoke_share(viewer=book.owner, share_id=created.share.pk, context=CTX)
    assert again.revoked_at == ShareGrant.objects.get(pk=created.share.pk).revoked_at


def test_expired_shares_do_not_open(book: SharedBook, clinician: User) -> None:
    created = share(book.owner)
    ShareGrant.objects.filter(pk=created.share.pk).update(expires_at=timezone.now())
    with pytest.raises(services.NotFound):
        open_session(clinician, created)


def test_the_citizen_pages_create_list_and_revoke(client: Any, book: SharedBook) -> None:
    client.force_login(book.owner)
    form = client.get(reverse("sharing:share_create"))
    assert form.status_code == 200
    page = form.content.decode()
    assert 'name="include_hiv"' in page and 'name="include_hiv" value="1" checked' not in page
    assert '<option value="240" selected>' in page
    created = client.post(
        reverse("sharing:share_create"),
        {
            "mode": "chosen",
            "years": ["2025"],
            "categories": ["visits", "lab"],
            "lifetime": "60",
            "nguoi": book.owner.username,
        },
    )
    assert created.status_code == 200
    body = created.content.decode()
    assert "<svg" in body and "Đưa mã này cho nhân viên y tế" in body
    grant = ShareGrant.objects.get()
    assert grant.years == [2025] and grant.categories == ["visits", "lab"]
    assert grant.expires_at - grant.created_at == dt.timedelta(hours=1)
    listing = client.get(reverse("sharing:shares")).content.decode()
    assert "Đang hiệu lực" in listing and "Thu hồi" in listing
    revoked = client.post(reverse("sharing:share_revoke", args=[grant.pk]), HTTP_HX_REQUEST="true")
    assert revoked.status_code == 200 and "Đã thu hồi" in revoked.content.decode()
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_a_representative_shares_their_childs_book(client: Any, book: SharedBook) -> None:
    import datetime as dt_

    from soskdt import testing
    from soskdt.healthbook import book as book_services
    from soskdt.healthbook.tests.conftest import sync

    child = testing.make_citizen(
        birth_year=dt_.date.today().year - 6, representative=book.citizen, representative_relation="Con"
    )
    book_services.accept_terms(viewer=book.owner, who=child.pk, terms_version="2025.1", context=CTX)
    sync(book.owner, child.pk)
    created = services.create_share(
        viewer=book.owner, who=child.personal_id, categories=["visits"], context=CTX
    )
    assert created.share.citizen_id == child.pk and created.share.created_as == "representative"
    assert created.share in services.shares_of(book.owner)
