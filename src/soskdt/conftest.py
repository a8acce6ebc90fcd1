"""Shared test setup: a cheap argon2 for speed, and the personas every authorisation test uses.

Personas (all with password ``testing.DEFAULT_PASSWORD``):
  citizen          level-2 citizen account with a valid BHYT card
  other_citizen    another level-2 citizen with a card (for "cannot see someone else's data")
  level1_citizen   level-1 citizen account, no card
  clinician        clinician at the health centre's facility, in the examination department
  unit_reporter    unit reporter of the examination department
  reception_staff  reception staff of the examination department (records patients helped at reception)
  centre_admin     administrator of the health centre
  org_tree         province department → health centre → 2 departments + 1 commune station
"""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher

from soskdt import testing
from soskdt.browser_testing import *  # noqa: F403 - browser, page, shoot fixtures
from soskdt.identity.models import Role, User


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    # Same "argon2" algorithm and encoding; lower cost so that hundreds of test logins stay fast.
    time_cost = 1
    memory_cost = 256
    parallelism = 1


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    settings.PASSWORD_HASHERS = ["soskdt.conftest.FastArgon2PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _default_language_after_each_test() -> object:
    # LocaleMiddleware leaves the last request's language active in the worker thread; reset it so that a
    # test that asked for English pages cannot make the next test's Vietnamese assertions fail.
    from django.conf import settings
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def org_tree(db: None) -> testing.OrgTree:
    return testing.make_org_tree()


@pytest.fixture
def citizen(db: None) -> User:
    user = testing.make_citizen_account(assurance_level=2)
    assert user.citizen is not None
    testing.make_card(citizen=user.citizen)
    return user


@pytest.fixture
def other_citizen(db: None) -> User:
    user = testing.make_citizen_account(assurance_level=2, sex="2", birth_year=1992)
    assert user.citizen is not None
    testing.make_card(citizen=user.citizen)
    return user


@pytest.fixture
def level1_citizen(db: None) -> User:
    return testing.make_citizen_account(assurance_level=1, birth_year=1958)


@pytest.fixture
def clinician(org_tree: testing.OrgTree) -> User:
    return testing.make_staff(
        full_name="Trần Thị Lan",
        org_unit=org_tree.departments[0],
        facility=org_tree.centre_facility,
        roles=[Role.CLINICIAN],
    )


@pytest.fixture
def unit_reporter(org_tree: testing.OrgTree) -> User:
    return testing.make_staff(
        full_name="Lê Văn Hùng", org_unit=org_tree.departments[0], roles=[Role.UNIT_REPORTER]
    )


@pytest.fixture
def reception_staff(org_tree: testing.OrgTree) -> User:
    return testing.make_staff(
        full_name="Võ Thị Mai", org_unit=org_tree.departments[0], roles=[Role.RECEPTION]
    )


@pytest.fixture
def centre_admin(org_tree: testing.OrgTree) -> User:
    return testing.make_staff(full_name="Phạm Thị Hoa", org_unit=org_tree.centre, roles=[Role.CENTRE_ADMIN])
