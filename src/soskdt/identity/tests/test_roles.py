import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from soskdt.identity.auth import citizen_required, permission_required, role_required, staff_required
from soskdt.identity.models import Role
from soskdt.identity.permissions import PERMISSIONS, has_permission, permissions_of
from soskdt.testing import make_staff

MATRIX = {
    "ingestion.submit": {Role.SUBMITTER},
    "ingestion.operate": {Role.SUBMITTER, Role.CENTRE_ADMIN, Role.PROVINCE_ADMIN},
    "sharing.open_book": {Role.CLINICIAN},
    "rollout.report_unit": {Role.UNIT_REPORTER},
    "rollout.guide_patients": {Role.RECEPTION, Role.UNIT_REPORTER},
    "rollout.admin_centre": {Role.CENTRE_ADMIN, Role.PROVINCE_ADMIN},
    "sharing.review_emergency": {Role.AUDITOR},
}


def test_the_permissions_are_declared_as_data():
    assert {perm: set(roles) for perm, roles in PERMISSIONS.items()} == MATRIX


@pytest.mark.django_db
@pytest.mark.parametrize("role", Role.values)
def test_each_role_holds_exactly_the_permissions_declared_for_it(role, org_tree):
    user = make_staff(org_unit=org_tree.centre, roles=[role])
    assert permissions_of(user) == {perm for perm, roles in MATRIX.items() if role in roles}


def test_the_personas_hold_what_their_roles_give(
    clinician, unit_reporter, reception_staff, centre_admin, citizen
):
    assert has_permission(clinician, "sharing.open_book")
    assert not has_permission(clinician, "rollout.report_unit")
    assert not has_permission(clinician, "rollout.guide_patients")
    assert permissions_of(unit_reporter) == {"rollout.report_unit", "rollout.guide_patients"}
    assert permissions_of(reception_staff) == {"rollout.guide_patients"}
    assert permissions_of(centre_admin) == {"rollout.admin_centre", "ingestion.operate"}
    assert permissions_of(citizen) == set()


def test_a_person_may_hold_several_roles(org_tree):
    user = make_staff(org_unit=org_tree.departments[0], roles=[Role.CLINICIAN, Role.UNIT_REPORTER])
    assert permissions_of(user) == {"sharing.open_book", "rollout.report_unit", "rollout.guide_patients"}


def test_anonymous_inactive_and_superusers_hold_no_domain_permission(clinician, db):
    assert not has_permission(AnonymousUser(), "sharing.open_book")
    clinician.is_active = False
    assert not has_permission(clinician, "sharing.open_book")
    admin = make_staff(is_superuser=True)
    assert permissions_of(admin) == set()


def test_an_unknown_permission_is_a_programming_error(clinician):
    with pytest.raises(KeyError):
        has_permission(clinician, "sharing.open_everything")
    with pytest.raises(KeyError):
        permission_required("no.such")


def test_roles_are_read_once_per_user_object(clinician, django_assert_num_queries):
    with django_assert_num_queries(1):
        for perm in PERMISSIONS:
            has_permission(clinician, perm)


def _ok(request):
    return HttpResponse("ok")


def _call(view, user):
    request = RequestFactory().get("/somewhere/?x=1")
    request.user = user
    return view(request)


def test_citizen_required_lets_citizens_in_and_sends_the_anonymous_to_the_citizen_login(citizen, clinician):
    view = citizen_required(_ok)
    assert _call(view, citizen).content == b"ok"
    response = _call(view, AnonymousUser())
    assert response.status_code == 302
    assert response.url.startswith("/dang-nhap/?next=")
    with pytest.raises(Http404):
        _call(view, clinician)


def test_role_required_answers_404_to_the_wrong_role_and_to_citizens(clinician, unit_reporter, citizen):
    view = role_required(Role.CLINICIAN)(_ok)
    assert _call(view, clinician).content == b"ok"
    for outsider in (unit_reporter, citizen):
        with pytest.raises(Http404):
            _call(view, outsider)
    assert _call(view, AnonymousUser()).url.startswith("/can-bo/dang-nhap/?next=")


def test_staff_and_permission_guards(clinician, centre_admin, citizen):
    assert _call(staff_required(_ok), centre_admin).content == b"ok"
    with pytest.raises(Http404):
        _call(staff_required(_ok), citizen)
    guarded = permission_required("rollout.admin_centre")(_ok)
    assert _call(guarded, centre_admin).content == b"ok"
    with pytest.raises(Http404):
        _call(guarded, clinician)
