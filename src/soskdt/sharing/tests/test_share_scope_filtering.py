"""A clinician sees exactly the shared years and categories; HIV-related items only with explicit consent."""

from __future__ import annotations

from typing import Any

import pytest

from soskdt.healthbook import reads
from soskdt.healthbook.scope import Scope
from soskdt.identity.models import User
from soskdt.sharing import services
from soskdt.sharing.tests.conftest import ARV_NAME, CTX, HIV_TEST_NAME, SharedBook, open_session, share

pytestmark = pytest.mark.django_db


def _read(clinician: User, session: Any, fn: Any, **kwargs: Any) -> Any:
    grant = services.SessionGrant(session)
    return fn(
        viewer=clinician,
        who=grant.citizen_id,
        gate=services.grant_gate(grant, clinician),
        context=CTX,
        grant=grant,
        **kwargs,
    )


def test_only_the_shared_years_are_listed(book: SharedBook, clinician: User) -> None:
    session = open_session(clinician, share(book.owner, years=[2024]))
    home = _read(clinician, session, reads.open_book)
    assert [y.year for y in home.years] == [2024]
    with pytest.raises(services.NotFound):
        _read(clinician, session, reads.visits_for_year, year=2025)


def test_whole_book_without_hiv_consent_hides_hiv_visits_arv_drugs_and_hiv_tests(
    book: SharedBook, clinician: User
) -> None:
    session = open_session(clinician, share(book.owner))
    home = _read(clinician, session, reads.open_book)
    assert {(y.year, y.visits) for y in home.years} == {(2024, 1), (2025, 1)}  # the B20 visit is hidden
    with pytest.raises(services.NotFound):
        _read(clinician, session, reads.visit_detail, visit_id=book.hiv.pk)
    detail = _read(clinician, session, reads.visit_detail, visit_id=book.v2025.pk).data
    assert ARV_NAME not in [d.name for d in detail.drugs]
    assert detail.drugs  # the other drugs stay
    drugs = _read(clinician, session, reads.visit_tab, visit_id=book.v2025.pk, tab_key="drugs").data
    assert ARV_NAME not in [d.name for g in drugs.groups for d in g.drugs]
    lab = _read(clinician, session, reads.visit_tab, visit_id=book.v2025.pk, tab_key="lab").data
    names = [s.name for g in lab.groups for s in g.services]
    results = [r.name for g in lab.groups for s in g.services for r in s.results]
    results += [r.name for g in lab.groups for r in g.other_results]
    assert HIV_TEST_NAME not in names and "HIV Ag/Ab" not in results
    assert names  # the other lab lines stay
    year_drugs = _read(clinician, session, reads.year_tab, year=2025, tab_key="drugs").data
    assert ARV_NAME not in [d.name for g in year_drugs.groups for d in g.drugs]


def test_with_hiv_consent_everything_shows(book: SharedBook, clinician: User) -> None:
    session = open_session(clinician, share(book.owner, include_hiv=True))
    home = _read(clinician, session, reads.open_book)
    assert {(y.year, y.visits) for y in home.years} == {(2024, 1), (2025, 2)}
    assert _read(clinician, session, reads.visit_detail, visit_id=book.hiv.pk).data is not None
    detail = _read(clinician, session, reads.visit_detail, visit_id=book.v2025.pk).data
    assert ARV_NAME in [d.name for d in detail.drugs]
    lab = _read(clinician, session, reads.visit_tab, visit_id=book.v2025.pk, tab_key="lab").data
    assert HIV_TEST_NAME in [s.name for g in lab.groups for s in g.services]


def test_unshared_categories_are_refused_and_hidden(book: SharedBook, clinician: User) -> None:
    session = open_session(clinician, share(book.owner, categories=["lab"]))
    with pytest.raises(services.NotFound):
        _read(clinician, session, reads.visit_detail, visit_id=book.v2025.pk)
    with pytest.raises(services.NotFound):
        _read(clinician, session, reads.visit_tab, visit_id=book.v2025.pk, tab_key="drugs")
    year = _read(clinician, session, reads.visits_for_year, year=2025).data
    assert year.page.items and all(v.main_diagnosis == "" and v.main_icd == "" for v in year.page.items)
    assert [t.key for t in reads.allowed_tabs(session.share.scope)] == ["lab"]


def test_owners_still_read_everything(book: SharedBook) -> None:
    from soskdt.healthbook.tests.conftest import always

    home = reads.open_book(viewer=book.owner, who=book.owner.citizen_id, gate=always, context=CTX)
    assert home.access.scope == Scope.full()
    assert {(y.year, y.visits) for y in home.years} == {(2024, 1), (2025, 2)}


def test_the_clinicians_pages_show_the_same_detail_without_hiv_lines(
    client: Any, book: SharedBook, clinician: User
) -> None:
    from django.urls import reverse

    session = open_session(clinician, share(book.owner))
    client.force_login(clinician)
    page = client.get(
        reverse("sharing:shared_book:visit", args=[session.public_id, book.v2025.pk])
    ).content.decode()
    assert "Amoxicilin" in page and "Tenofovir" not in page
    assert "không gồm thông tin HIV" in page
