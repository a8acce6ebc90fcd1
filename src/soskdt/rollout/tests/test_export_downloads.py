"""Downloads of the report files and the poster: the same scope as the report pages, 404 for anyone else.

A unit reporter gets only their unit's files; the centre admin every unit's under the centre and the
consolidation; a clinician, a citizen or another unit's reporter gets the plain 404 (the anonymous: the login).
"""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from soskdt import testing
from soskdt.identity.models import Role, User
from soskdt.rollout.exports import FORMATS
from soskdt.rollout.tests.export_data import PERIOD, ExportCase, make_export_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(org_tree, unit_reporter) -> ExportCase:
    return make_export_case(org_tree, unit_reporter)


@pytest.fixture
def other_reporter(org_tree) -> User:
    return testing.make_staff(
        full_name="Đỗ Thị Lan", org_unit=org_tree.departments[1], roles=[Role.UNIT_REPORTER]
    )


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def unit_url(case: ExportCase, fmt: str, unit_index: int = 0, period: str = PERIOD.key) -> str:
    code = case.tree.departments[unit_index].code
    return reverse("rollout_exports:unit_report", args=[code, period, fmt])


def consolidated_url(fmt: str, period: str = PERIOD.key) -> str:
    return reverse("rollout_exports:consolidated_report", args=[period, fmt])


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_unit_reporter_downloads_their_units_report_in_every_format(case, unit_reporter, fmt):
    response = client_for(unit_reporter).get(unit_url(case, fmt))
    assert response.status_code == 200
    assert response["Content-Type"] == FORMATS[fmt][0]
    code = case.tree.departments[0].code
    assert response["Content-Disposition"] == f'attachment; filename="phu-luc-1-{code}-2025-01.{fmt}"'
    assert "no-store" in response["Cache-Control"]
    expected = case.unit_report().to_json()
    if fmt == "json":
        assert json.loads(response.content)["rows"] == expected["rows"]
    elif fmt == "docx":
        Document(io.BytesIO(response.content))
    elif fmt == "xlsx":
        assert (
            load_workbook(io.BytesIO(response.content))["I.1 Kết quả"]["C7"].value
            == expected["rows"][0]["total_staff"]
        )
    else:
        assert response.content.startswith(b"%PDF-")


def test_the_centre_admin_downloads_any_unit_under_the_centre_and_the_consolidation(case, centre_admin):
    client = client_for(centre_admin)
    assert client.get(unit_url(case, "docx", unit_index=1)).status_code == 200
    response = client.get(consolidated_url("xlsx"))
    assert response.status_code == 200
    assert 'filename="phu-luc-1-tong-hop-' in response["Content-Disposition"]
    only_submitted = json.loads(client.get(consolidated_url("json") + "?chi_da_nop=1").content)
    assert [row["has_data"] for row in only_submitted["rows"]] == [False, True, False]


@pytest.mark.parametrize("who", ["clinician", "citizen", "other_reporter", "anonymous"])
def test_anybody_else_gets_404_for_every_download(case, request, who):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = client_for(user)
    urls = [
        unit_url(case, "docx"),
        unit_url(case, "json"),
        consolidated_url("pdf"),
        reverse("rollout_exports:unit_poster", args=[case.tree.departments[0].code]),
        reverse("rollout_exports:area_poster"),
    ]
    for url in urls:
        response = client.get(url)
        if who == "anonymous":
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("identity:staff_login"))
        else:
            assert response.status_code == 404, (who, url)
        assert b"B\xc3\x81O C\xc3\x81O" not in response.content  # "BÁO CÁO": nothing of the report leaks


def test_a_unit_reporter_cannot_download_the_consolidation_or_another_units_files(case, unit_reporter):
    client = client_for(unit_reporter)
    assert client.get(unit_url(case, "docx", unit_index=1)).status_code == 404
    assert client.get(consolidated_url("docx")).status_code == 404
    assert client.get(reverse("rollout_exports:area_poster")).status_code == 404


def test_unknown_formats_and_months_outside_the_campaign_are_404(case, unit_reporter):
    client = client_for(unit_reporter)
    assert client.get(unit_url(case, "exe")).status_code == 404
    assert client.get(unit_url(case, "docx", period="2099-01")).status_code == 404
    assert client.get(unit_url(case, "docx", period="2024-11")).status_code == 404  # before the campaign
    assert client.get(unit_url(case, "docx", period="2025-1")).status_code == 404


def test_the_poster_opens_inline_for_the_units_own_reporter_and_the_admin(
    case, unit_reporter, centre_admin, settings
):
    settings.SOSKDT = {**settings.SOSKDT, "PUBLIC_URL": "https://sotay.example.vn/"}
    code = case.tree.departments[0].code
    response = client_for(unit_reporter).get(reverse("rollout_exports:unit_poster", args=[code]) + "?kho=a3")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="ap-phich-{code}-A3.pdf"'
    admin = client_for(centre_admin)
    assert admin.get(reverse("rollout_exports:area_poster")).status_code == 200
    assert admin.get(reverse("rollout_exports:unit_poster", args=[case.tree.station.code])).status_code == 200
    assert admin.get(reverse("rollout_exports:area_poster") + "?kho=A5").status_code == 404


def test_the_report_page_and_the_dashboard_offer_the_download_buttons(case, unit_reporter, centre_admin):
    code = case.tree.departments[0].code
    page = client_for(unit_reporter).get(reverse("rollout:report", args=[code, PERIOD.key])).content.decode()
    for label, fmt in (("Tải Word", "docx"), ("Tải Excel", "xlsx"), ("Tải PDF", "pdf")):
        assert label in page
        assert unit_url(case, fmt) in page
    assert "In áp phích" in page and reverse("rollout_exports:unit_poster", args=[code]) in page
    dashboard = (
        client_for(centre_admin).get(reverse("rollout:dashboard") + f"?ky={PERIOD.key}").content.decode()
    )
    for label, fmt in (("Tải Word", "docx"), ("Tải Excel", "xlsx"), ("Tải PDF", "pdf")):
        assert label in dashboard and consolidated_url(fmt) in dashboard
    assert reverse("rollout_exports:area_poster") in dashboard
