"""Who sees what: a unit reporter only their unit, the centre admin every unit under the centre, reception
staff only their own unit's reception form, nobody else.

Forbidden answers 404 like a missing page (the anonymous are sent to the staff login), and nothing changes.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from soskdt import testing
from soskdt.identity.models import Role, User
from soskdt.registry.models import OrgUnitKind
from soskdt.rollout import services
from soskdt.rollout.models import MonthlyReport, ReceptionHelp, RosterEntry, StatusChange
from soskdt.rollout.tests.conftest import add_staff

pytestmark = pytest.mark.django_db

PERIOD = "2024-12"


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def world(org_tree, unit_reporter, reception_staff, centre_admin, clinician, citizen):
    own, other = org_tree.departments
    station = org_tree.station
    own_entry = add_staff(own, name="Nguyễn Văn Một")
    other_entry = add_staff(other, name="Trần Thị Hai")
    station_entry = add_staff(station, name="Lê Văn Ba")
    elsewhere_centre = testing.make_orgunit(kind=OrgUnitKind.HEALTH_CENTRE, parent=org_tree.province)
    foreign = testing.make_orgunit(
        kind=OrgUnitKind.DEPARTMENT, parent=elsewhere_centre, name="Khoa ngoài Trung tâm"
    )
    foreign_entry = add_staff(foreign, name="Phạm Văn Bốn")
    return {
        "own": own,
        "other": other,
        "station": station,
        "foreign": foreign,
        "entries": {
            "own": own_entry,
            "other": other_entry,
            "station": station_entry,
            "foreign": foreign_entry,
        },
        "users": {
            "unit_reporter": unit_reporter,
            "reception_staff": reception_staff,
            "centre_admin": centre_admin,
            "clinician": clinician,
            "citizen": citizen,
        },
    }


def unit_pages(code: str, entry_pk: int) -> list[str]:
    return [
        reverse("rollout:unit", args=[code]),
        reverse("rollout:report", args=[code, PERIOD]),
        reverse("rollout:trainings", args=[code]),
        reverse("rollout:printing", args=[code]),
        reverse("rollout:roster_export", args=[code]),
        reverse("rollout:entry_edit", args=[code, entry_pk]),
    ]


def edit_pages(code: str, entry_pk: int) -> list[str]:
    return [
        reverse("rollout:entry_add", args=[code]),
        reverse("rollout:roster_import", args=[code]),
        reverse("rollout:status_cell", args=[code, entry_pk, "level2"]),
    ]


def test_a_unit_reporter_sees_and_edits_only_their_unit(world):
    client = client_for(world["users"]["unit_reporter"])
    own, entry = world["own"], world["entries"]["own"]
    for url in [
        reverse("rollout:home"),
        *unit_pages(own.code, entry.pk),
        *edit_pages(own.code, entry.pk),
        reverse("rollout:reception"),
        reverse("rollout:unit_reception", args=[own.code]),
    ]:
        assert client.get(url).status_code == 200, url
    for key in ("other", "station", "foreign"):
        unit, other_entry = world[key], world["entries"][key]
        for url in unit_pages(unit.code, other_entry.pk) + edit_pages(unit.code, other_entry.pk):
            assert client.get(url).status_code == 404, url
        assert client.get(reverse("rollout:unit_reception", args=[unit.code])).status_code == 404
    for name in ("rollout:dashboard", "rollout:campaign"):
        assert client.get(reverse(name)).status_code == 404
    assert client.get(reverse("rollout:consolidated", args=[PERIOD])).status_code == 404
    # Their own unit's entry cannot be reached through another unit's address either.
    assert client.get(reverse("rollout:entry_edit", args=[world["other"].code, entry.pk])).status_code == 404


def test_the_unit_reporter_cannot_change_another_units_data(world):
    client = client_for(world["users"]["unit_reporter"])
    other, other_entry = world["other"], world["entries"]["other"]
    before = (RosterEntry.objects.count(), StatusChange.objects.count(), MonthlyReport.objects.count())
    posts = [
        (
            reverse("rollout:entry_add", args=[other.code]),
            {
                "full_name": "X",
                "personal_id": "079188000001",
                "has_smartphone": "1",
                "active_from": "2024-01-01",
            },
        ),
        (reverse("rollout:status_cell", args=[other.code, other_entry.pk, "level2"]), {"done": "1"}),
        (reverse("rollout:report", args=[other.code, PERIOD]), {"difficulties": "x"}),
        (reverse("rollout:report_action", args=[other.code, PERIOD, "nop"]), {}),
        (reverse("rollout:entry_edit", args=[other.code, other_entry.pk]), {"full_name": "Y"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert (
        RosterEntry.objects.count(),
        StatusChange.objects.count(),
        MonthlyReport.objects.count(),
    ) == before
    other_entry.refresh_from_db()
    assert other_entry.full_name == "Trần Thị Hai"


def test_the_centre_admin_sees_every_unit_under_the_centre_but_not_beyond(world):
    client = client_for(world["users"]["centre_admin"])
    for key in ("own", "other", "station"):
        unit, entry = world[key], world["entries"][key]
        for url in unit_pages(unit.code, entry.pk):
            assert client.get(url).status_code == 200, url
        # Administrators read and approve; the unit's own reporter enters its data.
        for url in edit_pages(unit.code, entry.pk):
            assert client.get(url).status_code == 404, url
    for url in unit_pages(world["foreign"].code, world["entries"]["foreign"].pk):
        assert client.get(url).status_code == 404, url
    for url in (
        reverse("rollout:dashboard"),
        reverse("rollout:campaign"),
        reverse("rollout:consolidated", args=[PERIOD]),
    ):
        assert client.get(url).status_code == 200, url
    # The admin's home is the dashboard; the reception form belongs to a unit's own staff.
    assert client.get(reverse("rollout:home")).status_code == 302
    assert client.get(reverse("rollout:reception")).status_code == 404
    for key in ("own", "other", "station"):
        assert client.get(reverse("rollout:unit_reception", args=[world[key].code])).status_code == 404
    page = client.get(reverse("rollout:dashboard"), {"ky": PERIOD}).content.decode()
    assert world["own"].name in page and world["station"].name in page
    assert "Khoa ngoài Trung tâm" not in page


@pytest.mark.parametrize("persona", ["clinician", "citizen"])
def test_a_clinician_or_a_citizen_sees_none_of_it(world, persona):
    client = client_for(world["users"][persona])
    own, entry = world["own"], world["entries"]["own"]
    urls = [
        reverse("rollout:home"),
        reverse("rollout:dashboard"),
        reverse("rollout:campaign"),
        reverse("rollout:reception"),
        reverse("rollout:unit_reception", args=[own.code]),
        reverse("rollout:roster_template"),
        reverse("rollout:consolidated", args=[PERIOD]),
        *unit_pages(own.code, entry.pk),
        *edit_pages(own.code, entry.pk),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    before = ReceptionHelp.objects.count()
    assert client.post(reverse("rollout:reception"), {"action": "installed_app"}).status_code == 404
    own_form = reverse("rollout:unit_reception", args=[own.code])
    assert client.post(own_form, {"action": "installed_app"}).status_code == 404
    assert ReceptionHelp.objects.count() == before


def test_reception_staff_record_patients_for_their_own_unit(world):
    user = world["users"]["reception_staff"]
    client = client_for(user)
    own = world["own"]
    page = client.get(reverse("rollout:unit_reception", args=[own.code]))
    assert page.status_code == 200
    html = page.content.decode()
    assert own.name in html
    for label in ("Đã cài ứng dụng", "Đã tích hợp thẻ BHYT", "Đã mở sổ"):
        assert label in html
    assert f'href="{reverse("rollout:unit", args=[own.code])}"' not in html  # no way into the roster
    assert client.get(reverse("rollout:reception")).status_code == 200  # the short address: the same form
    response = client.post(reverse("rollout:unit_reception", args=[own.code]), {"action": "linked_card"})
    assert response.status_code == 302
    assert response["Location"] == reverse("rollout:unit_reception", args=[own.code])
    record = ReceptionHelp.objects.get()
    assert (record.unit, record.recorded_by, record.action) == (own, user, "linked_card")
    # The staff home's link (rollout:home) leads a reception-only account to its form.
    assert client.get(reverse("rollout:home"))["Location"] == reverse("rollout:reception")


def test_reception_staff_get_404_for_another_units_form_and_nothing_is_recorded(world):
    client = client_for(world["users"]["reception_staff"])
    for key in ("other", "station", "foreign"):
        url = reverse("rollout:unit_reception", args=[world[key].code])
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"action": "installed_app"}).status_code == 404, url
    assert client.get(reverse("rollout:unit_reception", args=["NO-SUCH-UNIT"])).status_code == 404
    assert not ReceptionHelp.objects.exists()


def test_reception_staff_see_no_roster_report_dashboard_or_api(world):
    client = client_for(world["users"]["reception_staff"])
    before = (RosterEntry.objects.count(), StatusChange.objects.count(), MonthlyReport.objects.count())
    for key in ("own", "other"):
        unit, entry = world[key], world["entries"][key]
        for url in unit_pages(unit.code, entry.pk) + edit_pages(unit.code, entry.pk):
            assert client.get(url).status_code == 404, url
        assert client.get(f"/api/v1/rollout/reports/{unit.code}/{PERIOD}").status_code == 404
    for url in (
        reverse("rollout:dashboard"),
        reverse("rollout:campaign"),
        reverse("rollout:roster_template"),
        reverse("rollout:consolidated", args=[PERIOD]),
        f"/api/v1/rollout/consolidated/{PERIOD}",
    ):
        assert client.get(url).status_code == 404, url
    own = world["own"]
    assert (
        client.post(reverse("rollout:report", args=[own.code, PERIOD]), {"difficulties": "x"}).status_code
        == 404
    )
    assert client.post(reverse("rollout:report_action", args=[own.code, PERIOD, "nop"])).status_code == 404
    assert (
        RosterEntry.objects.count(),
        StatusChange.objects.count(),
        MonthlyReport.objects.count(),
    ) == before


def test_only_ones_own_reception_record_of_ones_own_unit_can_be_undone(world):
    reception = world["users"]["reception_staff"]
    reporter = world["users"]["unit_reporter"]
    own, other = world["own"], world["other"]
    client = client_for(reception)
    mine = services.record_reception(unit=own, action="installed_app", by=reception)
    colleagues = services.record_reception(unit=own, action="opened_book", by=reporter)
    elsewhere = services.record_reception(unit=other, action="opened_book", by=reception)
    undo = lambda code, record: reverse("rollout:reception_undo", args=[code, record.pk])  # noqa: E731
    assert client.post(undo(own.code, colleagues)).status_code == 404
    assert client.post(undo(own.code, elsewhere)).status_code == 404
    assert client.post(undo(other.code, elsewhere)).status_code == 404
    assert ReceptionHelp.objects.filter(undone_at__isnull=False).count() == 0
    assert client.post(undo(own.code, mine)).status_code == 302
    mine.refresh_from_db()
    assert mine.undone_at is not None


def test_the_anonymous_are_sent_to_the_staff_login(world):
    response = Client().get(reverse("rollout:dashboard"))
    assert response.status_code == 302
    assert reverse("identity:staff_login") in response["Location"]


def test_the_api_follows_the_same_scope(world):
    own, other = world["own"], world["other"]
    url = lambda unit: f"/api/v1/rollout/reports/{unit.code}/{PERIOD}"  # noqa: E731
    reporter = client_for(world["users"]["unit_reporter"])
    assert reporter.get(url(own)).status_code == 200
    assert reporter.get(url(own)).json()["unit"]["code"] == own.code
    assert reporter.get(url(other)).status_code == 404
    assert reporter.get(f"/api/v1/rollout/consolidated/{PERIOD}").status_code == 404
    admin = client_for(world["users"]["centre_admin"])
    assert admin.get(url(other)).status_code == 200
    assert admin.get(url(world["foreign"])).status_code == 404
    assert admin.get(f"/api/v1/rollout/consolidated/{PERIOD}").status_code == 200
    for persona in ("clinician", "citizen"):
        assert client_for(world["users"][persona]).get(url(own)).status_code == 404
    assert Client().get(url(own)).status_code == 401


def test_a_reporter_with_a_second_role_still_sees_only_their_unit(world):
    # A station head who is also a clinician (as in the demo's Vĩnh Hậu station).
    head = testing.make_staff(org_unit=world["station"], roles=[Role.UNIT_REPORTER, Role.CLINICIAN])
    client = client_for(head)
    assert client.get(reverse("rollout:unit", args=[world["station"].code])).status_code == 200
    assert client.get(reverse("rollout:unit", args=[world["own"].code])).status_code == 404
