"""Wallet test setup: the verification job runs at once unless a test asks for a queue that never runs."""

from __future__ import annotations

import pytest

from soskdt import testing
from soskdt.identity import services as identity_services
from soskdt.identity.models import User
from soskdt.registry.models import InsuranceCard

IMMEDIATE = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
}
NEVER_RUN = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}}


@pytest.fixture(autouse=True)
def _verification_runs_immediately(settings):
    # scripts/test sets the immediate backend; a bare `pytest` would use the database queue, which no
    # worker drains during tests.
    settings.TASKS = IMMEDIATE


@pytest.fixture
def queue_never_runs(settings):
    """Keep requests pending: the job is queued on a backend that never runs it."""
    settings.TASKS = NEVER_RUN


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (the job is enqueued after commit; tests run inside a transaction)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def citizen_card(citizen) -> InsuranceCard:
    return InsuranceCard.objects.get(holder_personal_id=citizen.citizen.personal_id)


@pytest.fixture
def bearer():
    def make(user: User, version: str | None = "2.0.4") -> dict[str, str]:
        plaintext, _token = identity_services.issue_api_token(user=user)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
        if version is not None:
            headers["HTTP_X_APP_VERSION"] = version
        return headers

    return make


@pytest.fixture
def staff_member(org_tree):
    return testing.make_staff(org_unit=org_tree.departments[0])
