"""The reception quick form (Appendix 1, I.2): one tap records one patient helped, counted today and this month.

Reception staff and unit reporters use it for their own unit; it is built for a phone at the reception desk
(three full-width buttons at least 96 px high, htmx so a tap does not reload the page) and is Vietnamese first.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from soskdt.rollout import services
from soskdt.rollout.models import ReceptionHelp
from soskdt.rollout.periods import Period
from soskdt.rollout.report import build_unit_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(reception_staff) -> Client:
    client = Client()
    client.force_login(reception_staff)
    return client


def form_url(user) -> str:
    return reverse("rollout:unit_reception", args=[user.org_unit.code])


def test_each_tap_records_one_patient_and_the_buttons_count_today_and_this_month(desk, reception_staff):
    for action in ("installed_app", "installed_app", "opened_book"):
        assert desk.post(form_url(reception_staff), {"action": action}).status_code == 302
    html = desk.get(form_url(reception_staff)).content.decode()
    buttons = re.findall(r'<button type="submit" name="action" value="(\w+)"[^>]*>(.*?)</button>', html, re.S)
    counts = {value: re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", text)).strip() for value, text in buttons}
    assert counts == {
        "installed_app": "Đã cài ứng dụng Hôm nay 2 · Tháng này 2",
        "linked_card": "Đã tích hợp thẻ BHYT Hôm nay 0 · Tháng này 0",
        "opened_book": "Đã mở sổ Hôm nay 1 · Tháng này 1",
    }


def test_an_htmx_tap_answers_with_the_panel_only_and_offers_to_undo_it(desk, reception_staff):
    response = desk.post(form_url(reception_staff), {"action": "linked_card"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="tiep-don">')  # swapped in place, no page reload
    assert "Đã ghi nhận: Đã tích hợp thẻ BHYT." in html
    record = ReceptionHelp.objects.get()
    assert reverse("rollout:reception_undo", args=[reception_staff.org_unit.code, record.pk]) in html
    assert "Hoàn tác" in html


def test_an_undone_tap_no_longer_counts_in_the_form_or_the_monthly_report(desk, reception_staff):
    unit = reception_staff.org_unit
    desk.post(form_url(reception_staff), {"action": "opened_book"})
    record = ReceptionHelp.objects.get()
    desk.post(reverse("rollout:reception_undo", args=[unit.code, record.pk]))
    html = desk.get(form_url(reception_staff)).content.decode()
    assert "Hôm nay 0 · Tháng này 0" in html and "Hôm nay 1" not in html
    report = build_unit_report(unit, Period.of(timezone.localdate()))
    assert report.reception.opened_book == 0


def test_a_tap_after_15_minutes_cannot_be_undone(desk, reception_staff):
    unit = reception_staff.org_unit
    old = services.record_reception(
        unit=unit, action="installed_app", by=reception_staff, at=timezone.now() - dt.timedelta(minutes=16)
    )
    html = desk.get(form_url(reception_staff)).content.decode()
    assert "Hoàn tác" not in html
    desk.post(reverse("rollout:reception_undo", args=[unit.code, old.pk]))
    old.refresh_from_db()
    assert old.undone_at is None


def test_an_unknown_action_records_nothing(desk, reception_staff):
    response = desk.post(form_url(reception_staff), {"action": "ate_lunch"}, follow=True)
    assert "Giá trị không hợp lệ." in response.content.decode()
    assert not ReceptionHelp.objects.exists()


def test_the_form_is_vietnamese_first_and_translated_to_english(desk, reception_staff):
    html = desk.get(form_url(reception_staff)).content.decode()
    assert '<html lang="vi"' in html
    assert "Hướng dẫn người bệnh tại khu vực tiếp đón" in html
    assert "Mỗi lần chạm ghi nhận một người bệnh đã được hướng dẫn." in html
    desk.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = desk.get(form_url(reception_staff)).content.decode()
    assert '<html lang="en"' in english
    assert "App installed" in english and "Đã cài ứng dụng" not in english


def test_the_form_is_built_for_a_phone(desk, reception_staff):
    html = desk.get(form_url(reception_staff)).content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert 'class="tap"' in html and 'hx-post="' in html
    css = (Path(__file__).parents[1] / "static" / "rollout" / "rollout.css").read_text()
    tap = re.search(r"\.tap button \{([^}]*)\}", css)
    assert tap is not None and "width: 100%" in tap.group(1) and "min-height: 96px" in tap.group(1)


def test_the_form_costs_a_bounded_number_of_queries(desk, reception_staff, django_assert_max_num_queries):
    for _ in range(5):
        services.record_reception(unit=reception_staff.org_unit, action="installed_app", by=reception_staff)
    with django_assert_max_num_queries(8):
        assert desk.get(form_url(reception_staff)).status_code == 200
    with django_assert_max_num_queries(12):
        response = desk.post(form_url(reception_staff), {"action": "opened_book"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
