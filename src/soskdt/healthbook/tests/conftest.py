from __future__ import annotations

import pytest

from soskdt.healthbook.tests.factories import make_facility
from soskdt.registry.models import Facility


@pytest.fixture
def facility(db: None) -> Facility:
    return make_facility()
