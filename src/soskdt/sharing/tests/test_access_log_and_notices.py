"""*Ai đã xem sổ của tôi*: every read by anyone, with facility; a notice for each clinician read."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from soskdt.healthbook.tests.conftest import unlock_page
from soskdt.identity.models import User
from soskdt.sharing import selectors
from soskdt.sharing.models import Notice
from soskdt.sharing.tests.conftest import SharedBook, open_session, share, successes

pytestmark = pytest.mark.django_db


def test_every_clinician_read_creates_one_notice(client: Any, book: SharedBook, clinician: User) -> None:
    session = open_session(clinician, share(book.owner))
    client.force_login(clinician)
    client.get(reverse("sharing:shared_book:book", args=[session.public_id]))
    client.get(reverse("sharing:shared_book:visit", args=[session.public_id, book.v2025.pk]))
    reads = successes(book.citizen, clinician)
    assert len(reads) == 3
    assert set(Notice.objects.values_list("access_log_id", flat=True)) == {r.pk for r in reads}
    assert all(n.share_id == session.share_id for n in Notice.objects.all())


def test_the_citizens_own_reads_make_no_notice(client: Any, book: SharedBook) -> None:
    unlock_page(client, book.owner)
    client.get(reverse("healthbook:book", args=[book.owner.username]))
    assert not Notice.objects.exists()


def test_the_access_log_page_shows_clinician_reads_with_the_facility(
    client: Any, book: SharedBook, clinician: User
) -> None:
    session = open_session(clinician, share(book.owner))
    client.force_login(clinician)
    client.get(reverse("sharing:shared_book:visit", args=[session.public_id, book.v2025.pk]))
    client.force_login(book.owner)
    page = client.get(reverse("sharing:access_log"))
    assert page.status_code == 200
    html = page.content.decode()
    assert clinician.full_name in html
    assert clinician.facility.name in html
    assert "Xem chi tiết đợt khám: 10/03/2025" in html
    assert "Người hành nghề khám chữa bệnh" in html
    assert "Bạn" in html  # the citizen's own reads (activation, sync)


def test_the_access_log_is_paginated_with_few_queries(
    client: Any, book: SharedBook, clinician: User, django_assert_max_num_queries: Any
) -> None:
    session = open_session(clinician, share(book.owner))
    client.force_login(clinician)
    for _ in range(25):
        client.get(reverse("sharing:shared_book:visit", args=[session.public_id, book.v2025.pk]))
    client.force_login(book.owner)
    with django_assert_max_num_queries(12):
        first = client.get(reverse("sharing:access_log"))
    assert "Trang 1/" in first.content.decode()
    log = selectors.access_log(book.owner, book.owner.username, page=2, page_size=20)
    assert log.page == 2 and log.entries


def test_another_citizen_cannot_read_my_log(client: Any, book: SharedBook, other_citizen: User) -> None:
    client.force_login(other_citizen)
    assert client.get(reverse("sharing:access_log") + f"?nguoi={book.owner.username}").status_code == 404


def test_notices_page_marks_them_read_and_the_share_page_counts_the_unread(
    client: Any, book: SharedBook, clinician: User
) -> None:
    session = open_session(clinician, share(book.owner))
    client.force_login(clinician)
    client.get(reverse("sharing:shared_book:book", args=[session.public_id]))
    client.force_login(book.owner)
    home = client.get(reverse("identity:citizen_home")).content.decode()
    assert "Chia sẻ sổ" in home and "Ai đã xem sổ của tôi" in home and "Thông báo" in home
    assert '<span class="badge warn">2</span>' in client.get(reverse("sharing:shares")).content.decode()
    page = client.get(reverse("sharing:notices")).content.decode()
    assert clinician.full_name in page and "notice unread" in page
    assert not Notice.objects.filter(read_at__isnull=True).exists()
    assert '<span class="badge warn">' not in client.get(reverse("sharing:shares")).content.decode()
