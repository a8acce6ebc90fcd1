"""The pages: the letter's labels in Vietnamese, a phone-sized layout, light enough for a slow connection."""

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from soskdt.healthbook.tests.conftest import activate, add_rich_visit, add_visits, sync, unlock_page
from soskdt.registry.models import InsuranceCard
from soskdt.wallet import services as wallet_services

PAGE_BUDGET = 200_000  # bytes, HTML plus its stylesheets and scripts, before images
_ASSET_RE = re.compile(r'(?:href|src)="/static/([^"]+)"')


def weight(response):
    html = response.content.decode()
    assets = 0
    for path in set(_ASSET_RE.findall(html)):
        found = finders.find(path)
        assert found, path
        assets += os.path.getsize(found)
    return len(response.content) + assets


@pytest.fixture
def heavy(client, citizen):
    """A heavy year: 60 visits, one of them with 50 drugs and every tab filled."""
    big = add_rich_visit(citizen.citizen, admitted_at=dt.datetime(2025, 12, 20, 7, 45), extra_drugs=48)
    add_visits(citizen.citizen, *[dt.datetime(2025, 1 + i % 12, 1 + i // 12, 8, 0) for i in range(59)])
    activate(citizen)
    sync(citizen)
    unlock_page(client, citizen)
    return big


def test_the_citizen_home_menu_opens_ho_so_suc_khoe(client, citizen):
    client.force_login(citizen)
    html = client.get(reverse("identity:citizen_home")).content.decode()
    assert f'href="{reverse("healthbook:home")}"' in html
    assert reverse("healthbook:home") == "/ho-so-suc-khoe/"
    html = client.get(reverse("healthbook:home")).content.decode()
    assert "Hồ sơ sức khỏe điện tử" in html
    assert reverse("healthbook:book", args=[citizen.username]) in html


def test_every_page_stays_under_200_kb_even_for_a_heavy_year(client, citizen, heavy):
    pid = citizen.username
    urls = [
        reverse("healthbook:home"),
        reverse("healthbook:profile"),
        reverse("healthbook:book", args=[pid]),
        reverse("healthbook:year", args=[pid, 2025]),
        reverse("healthbook:visit", args=[pid, heavy.pk]),
        reverse("healthbook:unlock", args=[pid]),
        reverse("healthbook:forgot_passcode"),
    ]
    urls += [
        reverse("healthbook:visit_tab", args=[pid, heavy.pk, slug])
        for slug in ("xet-nghiem", "thuoc-da-dieu-tri")
    ]
    urls += [
        reverse("healthbook:year_tab", args=[pid, 2025, slug])
        for slug in ("xet-nghiem", "thuoc-da-dieu-tri", "chan-doan-hinh-anh")
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert weight(response) < PAGE_BUDGET, (url, weight(response))


def test_long_lists_are_paged(client, citizen, heavy):
    html = client.get(reverse("healthbook:year", args=[citizen.username, 2025])).content.decode()
    assert html.count('class="visit-card"') == 20
    assert "Trang 1/3" in html and "?trang=2" in html
    html = client.get(reverse("healthbook:year", args=[citizen.username, 2025]) + "?trang=3").content.decode()
    assert html.count('class="visit-card"') == 20


def test_the_pages_use_the_letter_s_labels(client, citizen, heavy):
    pid = citizen.username
    book = client.get(reverse("healthbook:book", args=[pid])).content.decode()
    for label in ("Hồ sơ sức khỏe điện tử", "Cập nhật dữ liệu", "Năm"):
        assert label in book
    visit = client.get(reverse("healthbook:visit", args=[pid, heavy.pk])).content.decode()
    for label in (
        "Chi tiết đợt khám",
        "Xét nghiệm",
        "Chẩn đoán hình ảnh",
        "Thăm dò chức năng",
        "Thuốc đã điều trị",
        "Phẫu thuật, thủ thuật",
        "Thông tin hành chính",
        "Chẩn đoán xác định khi ra viện",
        "Tóm tắt hồ sơ bệnh án",
    ):
        assert label in visit


_ENGLISH = re.compile(
    r">\s*(?:Visit|Year|Drugs?|Results?|Download|Passcode required|Sync|Back|Next|Previous|Lab)\b"
)


def test_no_english_on_the_vietnamese_pages(client, citizen, heavy):
    pid = citizen.username
    for url in (
        reverse("healthbook:home"),
        reverse("healthbook:book", args=[pid]),
        reverse("healthbook:year", args=[pid, 2025]),
        reverse("healthbook:visit", args=[pid, heavy.pk]),
        reverse("healthbook:visit_tab", args=[pid, heavy.pk, "phau-thuat-thu-thuat"]),
    ):
        html = client.get(url).content.decode()
        assert 'lang="vi"' in html
        assert not _ENGLISH.search(html), url


def test_the_passcode_fields_bring_up_the_numeric_keypad(client, citizen):
    activate(citizen)
    client.force_login(citizen)
    html = client.get(reverse("healthbook:unlock", args=[citizen.username])).content.decode()
    field = re.search(r"<input[^>]*name=\"passcode\"[^>]*>", html).group(0)
    for attribute in ('inputmode="numeric"', 'pattern="[0-9]*"', 'maxlength="6"', 'type="password"'):
        assert attribute in field


def test_tap_targets_are_at_least_48_px(client):
    css = "".join(Path(finders.find(name)).read_text() for name in ("soskdt/app.css", "healthbook/book.css"))
    for selector in (".years a", ".visit-card", ".back a", ".tabs a", ".btn"):
        rule = re.search(re.escape(selector) + r"[^{]*\{([^}]*)\}", css)
        assert rule, selector
        height = re.search(r"min-height:\s*(\d+)px", rule.group(1))
        assert height and int(height.group(1)) >= 48, selector


def test_the_profile_shows_personal_data_the_linked_card_and_the_people_managed(
    client, family, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
    }
    parent = family.parent
    card = InsuranceCard.objects.get(holder_personal_id=parent.username)
    with django_capture_on_commit_callbacks(execute=True):
        wallet_services.submit_link_request(
            user=parent, value=card.social_insurance_number, issuer="BHXH_VN", app_version="2.1.0"
        )
    client.force_login(parent)
    html = client.get(reverse("healthbook:profile")).content.decode()
    for text in (
        parent.citizen.full_name,
        parent.username,
        "Thẻ BHYT",
        card.code,
        "Người được quản lý",
        family.child.full_name,
    ):
        assert text in html, text
    assert reverse("healthbook:book", args=[family.child.personal_id]) in html
