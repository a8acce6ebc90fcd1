"""A small demo built once per test module (in a transaction rolled back afterwards), for fast checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from soskdt.demo.builders import DemoResult, build_demo

SMALL_DEMO_CITIZENS = 400


@pytest.fixture(scope="module")
def small_demo(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[DemoResult]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_demo(today=timezone.localdate(), citizens=SMALL_DEMO_CITIZENS)
        transaction.set_rollback(True)
