"""Five wrong passcodes lock the book for SOSKDT["PASSCODE_LOCK_SECONDS"] (15 minutes by default)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from soskdt.core.errors import DomainError
from soskdt.core.models import Throttle
from soskdt.healthbook import book as services
from soskdt.healthbook.models import AccessLog, AccessOutcome
from soskdt.healthbook.tests.conftest import CTX, PASSCODE, activate

WRONG = "975310"


def unlock(user, passcode, who=None):
    return services.unlock_book(
        viewer=user, who=who or user.citizen_id, passcode=passcode, context=CTX, issue_token=True
    )


def refusal(user, passcode, who=None):
    with pytest.raises(DomainError) as refused:
        unlock(user, passcode, who)
    return refused.value


def test_the_right_passcode_opens_the_book_and_issues_a_short_lived_token(citizen):
    activate(citizen)
    unlocked = unlock(citizen, PASSCODE)
    assert unlocked.token
    assert dt.timedelta(minutes=14) < unlocked.expires_at - timezone.now() <= dt.timedelta(minutes=15)


def test_a_wrong_passcode_says_how_many_tries_are_left(citizen):
    activate(citizen)
    error = refusal(citizen, WRONG)
    assert error.code == "PASSCODE_WRONG" and error.status == 401
    assert error.details == [{"remaining": 4}]
    assert "Bạn còn 4 lần thử" in error.message


def test_wrong_passcode_five_times_locks_the_book(citizen):
    activate(citizen)
    codes = [refusal(citizen, WRONG).code for _ in range(5)]
    assert codes == ["PASSCODE_WRONG"] * 4 + ["PASSCODE_LOCKED"]
    locked = refusal(citizen, PASSCODE)
    assert locked.code == "PASSCODE_LOCKED" and locked.status == 429
    assert "15 phút" in locked.message


def test_the_lock_lasts_the_configured_time(citizen, settings):
    settings.SOSKDT = {**settings.SOSKDT, "PASSCODE_LOCK_SECONDS": 120}
    activate(citizen)
    for _ in range(5):
        refusal(citizen, WRONG)
    assert "2 phút" in refusal(citizen, PASSCODE).message
    row = Throttle.objects.get(scope="passcode")
    assert dt.timedelta(seconds=110) < row.locked_until - timezone.now() <= dt.timedelta(seconds=120)
    # Once the time has passed, the right passcode opens the book again and the count starts afresh.
    Throttle.objects.update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert unlock(citizen, PASSCODE).token
    assert not Throttle.objects.filter(scope="passcode").exists()


def test_a_success_forgets_earlier_failures(citizen):
    activate(citizen)
    for _ in range(4):
        refusal(citizen, WRONG)
    unlock(citizen, PASSCODE)
    assert refusal(citizen, WRONG).details == [{"remaining": 4}]


def test_every_attempt_is_in_the_access_log_failures_as_denied(citizen):
    activate(citizen)
    refusal(citizen, WRONG)
    unlock(citizen, PASSCODE)
    rows = list(AccessLog.objects.filter(owner=citizen.citizen, action="book.unlock").order_by("id"))
    assert [(r.outcome, r.target) for r in rows] == [
        (AccessOutcome.DENIED, "wrong-passcode"),
        (AccessOutcome.SUCCESS, ""),
    ]


def test_the_lock_is_per_account_whichever_book_it_opens(family):
    # The child's book opens with the parent's passcode: failures there count against the parent.
    parent, child = family.parent, family.child
    for _ in range(3):
        refusal(parent, WRONG, child.pk)
    for _ in range(2):
        refusal(parent, WRONG)
    assert refusal(parent, PASSCODE, child.pk).code == "PASSCODE_LOCKED"


def test_another_citizen_s_lock_does_not_lock_mine(citizen, other_citizen):
    activate(citizen)
    activate(other_citizen)
    for _ in range(5):
        refusal(other_citizen, WRONG)
    assert unlock(citizen, PASSCODE).token


# --- API and pages ---------------------------------------------------------------------------------------


def test_the_api_answers_401_then_429_with_the_error_shape(client, citizen, bearer):
    activate(citizen)
    headers = bearer(citizen)
    url = "/api/v1/me/book/unlock"
    answers = [
        client.post(url, {"passcode": WRONG}, content_type="application/json", **headers) for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert answers[0].json()["error"]["code"] == "PASSCODE_WRONG"
    assert answers[0].json()["error"]["details"] == [{"remaining": 4}]
    locked = client.post(url, {"passcode": PASSCODE}, content_type="application/json", **headers)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "PASSCODE_LOCKED"
    state = client.get("/api/v1/me/book/", **headers).json()
    assert state["locked"] is True and state["locked_minutes"] == 15


def test_the_passcode_page_shows_the_lock_and_offers_quen_passcode(client, citizen):
    activate(citizen)
    client.force_login(citizen)
    url = reverse("healthbook:unlock", args=[citizen.username])
    html = client.get(url).content.decode()
    assert 'inputmode="numeric"' in html and "Quên passcode?" in html
    for _ in range(4):
        assert client.post(url, {"passcode": WRONG}).status_code == 401
    response = client.post(url, {"passcode": WRONG})
    assert response.status_code == 429
    html = client.get(url).content.decode()
    assert "tạm khóa trong 15 phút" in html
    assert reverse("healthbook:forgot_passcode") in html
    assert 'name="passcode"' not in html
