"""POST /api/v1/submissions and GET /api/v1/submissions/{id}: facility keys, own facility only, streaming."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django_tasks import default_task_backend

from soskdt import testing
from soskdt.healthbook.models import Visit
from soskdt.identity import services as identity_services
from soskdt.ingestion import samples, services
from soskdt.ingestion.models import FacilityApiKey, Submission, SubmissionStatus, SubmissionVisit
from soskdt.ingestion.tasks import process_submission_task
from soskdt.ingestion.tests.test_pipeline import (  # noqa: F401 - isolated_archive is an autouse fixture
    FACILITY,
    facility,
    isolated_archive,
    specs,
    tables_with,
)

URL = "/api/v1/submissions"
REPORT_KEYS = {"file", "ma_lk", "table", "row", "field", "code", "message"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def queued_tasks(settings: Any) -> Any:
    """Tasks are only queued (not run) so that the tests see the answer before processing."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    yield default_task_backend
    default_task_backend.clear()  # type: ignore[attr-defined]


@pytest.fixture
def key() -> str:
    plaintext, _key = services.create_api_key(facility=facility(), label="HIS bệnh viện")
    return plaintext


def body(n: int = 3, **kw: Any) -> bytes:
    return samples.build_envelope(FACILITY, specs(n, **kw))


def post_raw(client: Client, data: bytes, **headers: str) -> Any:
    return client.generic("POST", URL, data, content_type="application/xml", headers=headers)


def run_queued(queued: Any) -> None:
    for result in list(queued.results):
        process_submission_task.call(*result.args, **result.kwargs)
    queued.clear()


def test_a_raw_xml_body_with_x_api_key_is_answered_202_before_processing_then_the_task_loads_it(
    client: Client, key: str, queued_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = post_raw(client, body(3), **{"X-API-Key": key, "X-File-Name": "thang3.xml"})
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["status"] == "received" and data["file"] == "thang3.xml"
    submission = Submission.objects.get(pk=data["id"])
    assert submission.status == SubmissionStatus.RECEIVED and not Visit.objects.exists()
    assert len(queued_tasks.results) == 1

    run_queued(queued_tasks)

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.DONE and submission.visits_accepted == 3
    assert Visit.objects.count() == 3
    report = client.get(data["url"], headers={"X-API-Key": key}).json()
    assert report["status"] == "done" and report["visits_accepted"] == 3


def test_a_multipart_upload_with_a_bearer_key_is_accepted(
    client: Client, key: str, queued_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("dot-kham.xml", body(2), content_type="application/xml")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"file": upload}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 202, response.content
    assert response.json()["file"] == "dot-kham.xml"
    run_queued(queued_tasks)
    assert Submission.objects.get().visits_accepted == 2


def test_multipart_without_a_file_field_is_a_validation_error(client: Client, key: str) -> None:
    response = client.post(URL, {"other": "x"}, headers={"X-API-Key": key})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


def test_keys_are_stored_hashed_and_the_plaintext_is_nowhere_in_the_database(key: str) -> None:
    stored = FacilityApiKey.objects.get()
    secret = key.split("_", 2)[2]
    assert stored.key_hash.startswith("argon2") and secret not in stored.key_hash
    assert key not in json.dumps(list(FacilityApiKey.objects.values()), default=str)
    assert services.authenticate_api_key(key) == stored


@pytest.mark.parametrize("header", ["X-API-Key", "Authorization"])
def test_a_wrong_or_revoked_key_is_401_and_nothing_is_stored(client: Client, key: str, header: str) -> None:
    def send(value: str) -> Any:
        return post_raw(
            client, body(1), **{header: f"Bearer {value}" if header == "Authorization" else value}
        )

    wrong = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    for value in (wrong, "skf_deadbeef_nothing", "", "garbage"):
        response = send(value)
        assert response.status_code == 401, value
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    services.revoke_api_key(key=FacilityApiKey.objects.get())
    assert send(key).status_code == 401
    assert not Submission.objects.exists()


def test_a_file_for_another_facility_is_refused_403_kept_as_failed_and_nothing_is_loaded(
    client: Client, key: str, queued_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    facility("79001")
    other = samples.build_envelope("79001", specs(2, facility_code="79001"))
    with django_capture_on_commit_callbacks(execute=True):
        response = post_raw(client, other, **{"X-API-Key": key})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "FACILITY_NOT_ALLOWED"
    assert error["details"][0]["value"] == "79001"
    submission = Submission.objects.get()
    assert submission.status == SubmissionStatus.FAILED
    assert submission.file_errors[0]["code"] == "FACILITY_NOT_ALLOWED"
    assert not queued_tasks.results and not Visit.objects.exists()
    assert services.process_submission(submission_id=submission.pk).visits_total == 0


def test_a_table_naming_another_facility_rejects_that_visit_only(
    client: Client, key: str, queued_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    visits = specs(3)
    mixed = [visits[0], tables_with(visits[1], "XML1", MA_CSKCB="79001"), visits[2]]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_raw(client, samples.build_envelope(FACILITY, mixed), **{"X-API-Key": key})
    assert response.status_code == 202
    run_queued(queued_tasks)
    report = client.get(response.json()["url"], headers={"X-API-Key": key}).json()
    assert (report["visits_accepted"], report["visits_rejected"]) == (2, 1)
    mismatch = [e for e in report["errors"] if e["code"] == "FACILITY_MISMATCH"]
    assert mismatch and mismatch[0]["ma_lk"] == visits[1].ma_lk


def test_the_report_has_the_shape_of_the_cli_json(
    client: Client, key: str, queued_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    visits = specs(2)
    broken = tables_with(visits[1], "XML1", NGAY_RA="2025")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_raw(
            client, samples.build_envelope(FACILITY, [visits[0], broken]), **{"X-API-Key": key}
        )
    run_queued(queued_tasks)
    report = client.get(response.json()["url"], headers={"X-API-Key": key}).json()
    for name in (
        "visits_accepted",
        "visits_replaced",
        "visits_unchanged",
        "visits_rejected",
        "visits_unlinked",
    ):
        assert isinstance(report[name], int)
    assert report["errors"] and isinstance(report["warnings"], list)
    for problem in report["errors"]:
        assert problem.keys() >= REPORT_KEYS
    assert report["errors"][0]["file"] == "upload.xml" and report["errors"][0]["ma_lk"] == visits[1].ma_lk


def test_a_submission_is_not_found_for_another_facility_a_citizen_or_a_bad_id(
    client: Client, key: str, queued_tasks: Any, django_capture_on_commit_callbacks: Any, citizen: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        url = post_raw(client, body(1), **{"X-API-Key": key}).json()["url"]
    other_key, _ = services.create_api_key(facility=facility("79001"))
    assert client.get(url, headers={"X-API-Key": other_key}).status_code == 404
    token, _token = identity_services.issue_api_token(user=citizen)
    assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 404
    client.force_login(citizen)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(f"{URL}/not-a-uuid", headers={"X-API-Key": key}).status_code == 404
    assert client.get(url).status_code == 401


def test_operators_read_the_report_with_their_session(
    client: Client, key: str, queued_tasks: Any, django_capture_on_commit_callbacks: Any, org_tree: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        url = post_raw(client, body(1), **{"X-API-Key": key}).json()["url"]
    admin = testing.make_staff(org_unit=org_tree.centre, roles=[testing.Role.CENTRE_ADMIN])
    submitter = testing.make_staff(roles=[testing.Role.SUBMITTER], facility=facility())
    stranger = testing.make_staff(roles=[testing.Role.SUBMITTER])
    for user, expected in ((admin, 200), (submitter, 200), (stranger, 404)):
        client.force_login(user)
        assert client.get(url).status_code == expected, user


def test_a_large_body_streams_into_the_archive_without_being_read_into_memory(
    client: Client, key: str, settings: Any, queued_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = body(6)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096  # reading request.body whole would be refused (400)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 4096
    assert len(data) > 20 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    with django_capture_on_commit_callbacks(execute=True):
        response = post_raw(client, data, **{"X-API-Key": key})
    assert response.status_code == 202, response.content
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("big.xml", data, content_type="application/xml")
    with django_capture_on_commit_callbacks(execute=True):
        multipart = client.post(URL, {"file": upload}, headers={"X-API-Key": key})
    assert multipart.status_code == 202, multipart.content
    run_queued(queued_tasks)
    assert [s.visits_accepted for s in Submission.objects.order_by("received_at")] == [6, 0]
    assert Submission.objects.order_by("received_at").last().visits_unchanged == 6  # type: ignore[union-attr]
    assert Submission.objects.first().size == len(data)  # type: ignore[union-attr]


def test_a_file_above_the_limit_is_refused_413_and_leaves_nothing(
    client: Client, key: str, settings: Any
) -> None:
    settings.SOSKDT = {**settings.SOSKDT, "INGEST_LIMITS": {"max_file_bytes": 1000}}
    response = post_raw(client, body(2), **{"X-API-Key": key})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "FILE_TOO_LARGE"
    assert not Submission.objects.exists()
    assert not list(Path(settings.ARCHIVE_ROOT).rglob("*.gz"))


def test_each_hoso_outcome_is_kept_per_submission(
    client: Client, key: str, queued_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        post_raw(client, body(4), **{"X-API-Key": key})
    run_queued(queued_tasks)
    assert list(SubmissionVisit.objects.order_by("index").values_list("index", "outcome")) == [
        (i, "accepted") for i in range(1, 5)
    ]


def test_a_task_finding_the_submission_held_by_another_run_tries_again_after_the_lease(
    client: Client, key: str, queued_tasks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submission_id = post_raw(client, body(2), **{"X-API-Key": key}).json()["id"]
    queued_tasks.clear()
    services._claim(submission_id, force=False)  # another worker holds it

    process_submission_task.call(submission_id)

    assert Submission.objects.get(pk=submission_id).visits_total == 0
    (retry,) = queued_tasks.results
    assert retry.args == [submission_id] or retry.args == (submission_id,)
    assert retry.task.run_after is not None
