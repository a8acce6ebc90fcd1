"""Administrators can look at visits and their lines, find them, and change nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from soskdt.healthbook.models import Visit
from soskdt.healthbook.services import record_visits
from soskdt.healthbook.tests.factories import make_visit_input
from soskdt.identity.models import User
from soskdt.registry.models import Facility


@pytest.fixture
def admin_client_vi(db: None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(User.objects.create_superuser("quantri", "Quantri@2025"))
    return client


@pytest.mark.django_db
def test_the_visit_page_shows_the_visit_with_its_lines_read_only(
    admin_client_vi: Client, facility: Facility
) -> None:
    record_visits(visits=[make_visit_input()])
    changed = make_visit_input(submission_ref="sub-2")
    changed.summary["HO_TEN"] = "Nguyễn Văn Ân"
    record_visits(visits=[changed])
    visit = Visit.objects.get()

    page = admin_client_vi.get(reverse("admin:healthbook_visit_change", args=[visit.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    for text in [
        "Nguyễn Văn Ân",
        "Amoxicilin 250mg",
        "Chụp Xquang ngực thẳng",
        "Viêm phổi thùy dưới phải",
        "sub-1",
    ]:
        assert text in html
    for label in ["Thuốc đã điều trị", "Kết quả cận lâm sàng", "Giấy ra viện", "Phiên bản cũ", "Hành chính"]:
        assert label.lower() in html.lower()
    assert 'name="_save"' not in html
    assert (
        admin_client_vi.post(reverse("admin:healthbook_visit_change", args=[visit.pk]), {}).status_code == 403
    )
    assert admin_client_vi.get(reverse("admin:healthbook_visit_add")).status_code == 403
    assert admin_client_vi.get(reverse("admin:healthbook_visit_delete", args=[visit.pk])).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["LK000002", "079085000002", "Trần Thị"])
def test_visits_are_found_by_ma_lk_personal_id_or_name(
    admin_client_vi: Client, facility: Facility, query: str
) -> None:
    other = make_visit_input(ma_lk="LK000002", personal_id="079085000002")
    other.summary["HO_TEN"] = "Trần Thị Bình"
    record_visits(visits=[make_visit_input(), other])

    page = admin_client_vi.get(reverse("admin:healthbook_visit_changelist"), {"q": query})

    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [Visit.objects.get(ma_lk="LK000002")]
