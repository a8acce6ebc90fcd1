"""Shared test setup: a cheap argon2 for speed (same algorithm and format as production)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    # Same "argon2" algorithm and encoding; lower cost so that hundreds of test logins stay fast.
    time_cost = 1
    memory_cost = 256
    parallelism = 1


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    settings.PASSWORD_HASHERS = ["soskdt.conftest.FastArgon2PasswordHasher"]  # type: ignore[attr-defined]
