"""Operator pages: submissions and their errors, the unlinked queue, daily counts, the upload form.

Authorisation matrix: centre/province admins see every facility; a submitter sees only their facility's
files; everybody else gets 404 (the anonymous are sent to the staff login) and nothing changes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from soskdt import testing
from soskdt.healthbook.models import Visit
from soskdt.ingestion import samples, services
from soskdt.ingestion.models import Submission, SubmissionSource, SubmissionStatus
from soskdt.ingestion.tests.test_pipeline import (  # noqa: F401 - isolated_archive is an autouse fixture
    FACILITY,
    facility,
    isolated_archive,
    specs,
    tables_with,
)

OTHER = "79001"
PAGES = ("ingestion:home", "ingestion:unlinked", "ingestion:daily")

pytestmark = pytest.mark.django_db


def load(
    visits: list[Any], *, code: str = FACILITY, name: str = "x.xml", days_ago: int = 0, **kw: Any
) -> Submission:
    """Receive and process a file as the API would (the facility is the sender's)."""
    import io

    data = samples.build_envelope(code, visits)
    received = services.receive_file(
        stream=io.BytesIO(data),
        file_name=name,
        source=SubmissionSource.API,
        facility=facility(code),
        received_at=timezone.now() - dt.timedelta(days=days_ago),
        **kw,
    )
    return services.process_submission(submission_id=received.pk)


@pytest.fixture
def feed() -> dict[str, Submission]:
    ours = specs(3)
    theirs = specs(2, seed=7, facility_code=OTHER)
    return {
        "ours": load([ours[0], tables_with(ours[1], "XML1", NGAY_RA="2025"), ours[2]], name="benh-vien.xml"),
        "theirs": load(theirs, code=OTHER, name="phong-kham.xml", days_ago=2),
    }


@pytest.fixture
def admin(org_tree: Any) -> Any:
    return testing.make_staff(org_unit=org_tree.centre, roles=[testing.Role.CENTRE_ADMIN])


@pytest.fixture
def province_admin(org_tree: Any) -> Any:
    return testing.make_staff(org_unit=org_tree.province, roles=[testing.Role.PROVINCE_ADMIN])


@pytest.fixture
def submitter() -> Any:
    return testing.make_staff(roles=[testing.Role.SUBMITTER], facility=facility())


def page(client: Client, user: Any, name: str, *args: Any, **params: Any) -> Any:
    client.force_login(user)
    return client.get(reverse(name, args=args), params)


# --- authorisation ------------------------------------------------------------------------------------


def test_the_anonymous_are_sent_to_the_staff_login(client: Client, feed: dict[str, Submission]) -> None:
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("identity:staff_login") in response["Location"]
    response = client.get(reverse("ingestion:submission", args=[feed["ours"].pk]))
    assert response.status_code == 302


def test_citizens_clinicians_and_unit_reporters_get_404_everywhere(
    client: Client, feed: dict[str, Submission], citizen: Any, clinician: Any, unit_reporter: Any
) -> None:
    for user in (citizen, clinician, unit_reporter):
        client.force_login(user)
        for name in (*PAGES, "ingestion:upload"):
            assert client.get(reverse(name)).status_code == 404, (user, name)
        assert client.get(reverse("ingestion:submission", args=[feed["ours"].pk])).status_code == 404
        before = Submission.objects.count()
        assert client.post(reverse("ingestion:reprocess", args=[feed["ours"].pk])).status_code == 404
        assert client.post(reverse("ingestion:relink")).status_code == 404
        assert Submission.objects.count() == before


def test_admins_see_every_facility_and_a_submitter_only_their_own(
    client: Client, feed: dict[str, Submission], admin: Any, province_admin: Any, submitter: Any
) -> None:
    for user in (admin, province_admin):
        html = page(client, user, "ingestion:home").content.decode()
        assert "benh-vien.xml" in html and "phong-kham.xml" in html
    html = page(client, submitter, "ingestion:home").content.decode()
    assert "benh-vien.xml" in html and "phong-kham.xml" not in html
    assert page(client, submitter, "ingestion:submission", feed["theirs"].pk).status_code == 404
    assert page(client, submitter, "ingestion:submission", feed["ours"].pk).status_code == 200
    queue = page(client, submitter, "ingestion:unlinked").content.decode()
    theirs_lk = Visit.objects.filter(facility_code=OTHER).values_list("ma_lk", flat=True)
    assert all(lk not in queue for lk in theirs_lk)
    daily = page(client, submitter, "ingestion:daily").content.decode()
    assert FACILITY in daily and OTHER not in daily


def test_a_submitter_without_a_facility_sees_nothing(client: Client, feed: dict[str, Submission]) -> None:
    lonely = testing.make_staff(roles=[testing.Role.SUBMITTER])
    lonely.facility = None
    lonely.save(update_fields=["facility"])
    html = page(client, lonely, "ingestion:home").content.decode()
    assert "benh-vien.xml" not in html and "Chưa có lượt gửi nào" in html


# --- the submissions list and a submission ------------------------------------------------------------


def test_the_list_shows_time_facility_file_size_status_and_counts_and_filters(
    client: Client, feed: dict[str, Submission], admin: Any
) -> None:
    html = page(client, admin, "ingestion:home").content.decode()
    assert "Hoàn tất, có hồ sơ bị từ chối" in html  # ours: one visit rejected
    assert "Hoàn tất" in html and OTHER in html
    assert timezone.localtime(feed["ours"].received_at).strftime("%d/%m/%Y %H:%M") in html
    html = page(client, admin, "ingestion:home", co_so=OTHER).content.decode()
    assert "phong-kham.xml" in html and "benh-vien.xml" not in html
    html = page(client, admin, "ingestion:home", trang_thai="failed").content.decode()
    assert "phong-kham.xml" not in html and "Chưa có lượt gửi nào" in html


def test_the_list_costs_the_same_queries_for_3_or_40_submissions(
    client: Client, admin: Any, django_assert_max_num_queries: Any
) -> None:
    load(specs(1))
    client.force_login(admin)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("ingestion:home")).status_code == 200
    for i in range(40):
        load(specs(1, seed=100 + i), code=FACILITY if i % 2 else OTHER, name=f"f{i}.xml")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("ingestion:home"))
    assert response.content.decode().count("<tr>") == 31  # header + a page of 30
    assert "Trang 1/2" in response.content.decode()
    assert client.get(reverse("ingestion:home"), {"trang": 2}).content.decode().count("<tr>") == 12


def test_a_submission_page_shows_counts_and_each_problem_with_its_location(
    client: Client, feed: dict[str, Submission], admin: Any
) -> None:
    submission = feed["ours"]
    html = page(client, admin, "ingestion:submission", submission.pk).content.decode()
    rejected = submission.visits.get(outcome="rejected")
    assert rejected.ma_lk in html
    for problem in rejected.errors:
        assert problem["code"] in html
    assert "XML1" in html and "NGAY_RA" in html
    assert submission.sha256 in html
    assert "Xử lý lại" in html


def test_an_admin_reprocesses_a_file_and_a_submitter_may_not(
    client: Client,
    feed: dict[str, Submission],
    admin: Any,
    submitter: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    original = feed["ours"]
    client.force_login(submitter)
    assert "Xử lý lại" not in client.get(reverse("ingestion:submission", args=[original.pk])).content.decode()
    assert client.post(reverse("ingestion:reprocess", args=[original.pk])).status_code == 404
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ingestion:reprocess", args=[original.pk]))
    copy = Submission.objects.get(reprocess_of=original)
    assert response.status_code == 302 and str(copy.pk) in response["Location"]
    copy.refresh_from_db()  # the immediate task backend ran it
    assert copy.status == SubmissionStatus.DONE
    assert (copy.visits_unchanged, copy.visits_rejected) == (2, 1)
    assert client.get(reverse("ingestion:reprocess", args=[original.pk])).status_code == 405


def test_a_submission_left_behind_by_a_dead_task_can_be_queued_again(
    client: Client, admin: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    import io

    facility()
    stuck = services.receive_file(
        stream=io.BytesIO(samples.build_envelope(FACILITY, specs(2))), file_name="s.xml", source="api"
    )
    client.force_login(admin)
    assert "Tiếp tục xử lý" in client.get(reverse("ingestion:submission", args=[stuck.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("ingestion:resume", args=[stuck.pk]))
    stuck.refresh_from_db()
    assert stuck.status == SubmissionStatus.DONE and stuck.visits_accepted == 2


# --- the unlinked queue and the daily counts ----------------------------------------------------------


def test_the_unlinked_queue_lists_facility_ma_lk_name_id_card_and_time(
    client: Client, feed: dict[str, Submission], admin: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(admin)
    with django_assert_max_num_queries(10):
        html = client.get(reverse("ingestion:unlinked")).content.decode()
    visit = Visit.objects.filter(facility_code=FACILITY).first()
    assert visit is not None
    for value in (visit.ma_lk, visit.full_name, visit.personal_id, visit.card_codes, OTHER):
        assert value and value in html
    assert "Liên kết lại" in html


def test_the_daily_grid_shows_counts_highlights_rejections_and_never_a_zero_for_a_silent_day(
    client: Client, feed: dict[str, Submission], admin: Any, django_assert_max_num_queries: Any
) -> None:
    load(specs(1, seed=9), name="cu.xml", days_ago=20)  # outside the 14 days
    client.force_login(admin)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("ingestion:daily"))
    days, grid = response.context["days"], response.context["grid"]
    assert len(days) == 14 and days[0] == timezone.localdate()
    rows = {row.code: row for row in grid}
    assert set(rows) == {FACILITY, OTHER}
    assert (rows[FACILITY].days[0].visits, rows[FACILITY].days[0].rejected) == (3, 1)
    assert rows[OTHER].days[2].visits == 2 and rows[OTHER].days[0].has_data is False
    html = response.content.decode()
    assert html.count("không có dữ liệu") == 2 * 14 - 2 + 1  # + the legend
    assert 'class="num rejected"' in html and "1 từ chối" in html


# --- the upload form ----------------------------------------------------------------------------------


def test_a_submitter_uploads_a_file_through_the_same_pipeline(
    client: Client, submitter: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(submitter)
    form = client.get(reverse("ingestion:upload"))
    assert form.status_code == 200 and "Gửi tệp XML" in form.content.decode()
    upload = SimpleUploadedFile("thang4.xml", samples.build_envelope(FACILITY, specs(2)))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ingestion:upload"), {"file": upload})
    submission = Submission.objects.get()
    assert response.status_code == 302 and str(submission.pk) in response["Location"]
    submission.refresh_from_db()
    assert submission.source == "web" and submission.sender == submitter
    assert submission.status == SubmissionStatus.DONE and submission.visits_accepted == 2


def test_an_upload_for_another_facility_is_refused_and_kept_as_failed(
    client: Client, submitter: Any, django_capture_on_commit_callbacks: Any
) -> None:
    facility(OTHER)
    client.force_login(submitter)
    upload = SimpleUploadedFile("khac.xml", samples.build_envelope(OTHER, specs(1, facility_code=OTHER)))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ingestion:upload"), {"file": upload}, follow=True)
    submission = Submission.objects.get()
    assert submission.status == SubmissionStatus.FAILED and not Visit.objects.exists()
    assert "khác mã cơ sở" in response.content.decode()


def test_an_upload_without_a_file_shows_the_form_again(client: Client, submitter: Any) -> None:
    client.force_login(submitter)
    response = client.post(reverse("ingestion:upload"), {})
    assert response.status_code == 400 and not Submission.objects.exists()


def test_admins_without_a_facility_have_no_upload_form(client: Client, admin: Any) -> None:
    assert page(client, admin, "ingestion:upload").status_code == 404
    assert "Gửi tệp XML" not in page(client, admin, "ingestion:home").content.decode()


def test_pages_are_in_vietnamese_with_diacritics(
    client: Client, feed: dict[str, Submission], admin: Any
) -> None:
    html = page(client, admin, "ingestion:home").content.decode()
    for text in ("Lượt gửi", "Chưa liên kết công dân", "Số hồ sơ theo ngày", "Thời điểm nhận", "Trạng thái"):
        assert text in html
    assert 'name="viewport"' in html and 'class="table-wrap"' in html
