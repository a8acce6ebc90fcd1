import pytest
from django.urls import reverse

CITIZEN_PAGES = ["identity:citizen_home", "identity:profile"]


@pytest.mark.parametrize("name", CITIZEN_PAGES)
def test_citizen_pages_send_the_anonymous_to_the_citizen_login(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("identity:login"))


@pytest.mark.parametrize("name", CITIZEN_PAGES)
def test_citizen_pages_are_404_for_staff(client, clinician, name):
    client.force_login(clinician)
    assert client.get(reverse(name)).status_code == 404


def test_the_citizen_home_offers_the_vneid_menu(client, citizen):
    client.force_login(citizen)
    html = client.get(reverse("identity:citizen_home")).content.decode()
    for label in ("Ví giấy tờ", "Hồ sơ sức khỏe", "Cá nhân", citizen.citizen.full_name):
        assert label in html
    assert reverse("identity:profile") in html


def test_the_profile_shows_the_register_data_the_level_and_the_app_version(client, citizen, settings):
    client.force_login(citizen)
    html = client.get(reverse("identity:profile")).content.decode()
    person = citizen.citizen
    for text in (
        person.full_name,
        person.personal_id,
        person.birth_date.display(),
        "Mức 2",
        "Phiên bản ứng dụng",
    ):
        assert text in html
    assert settings.SOSKDT["WEB_CLIENT_VERSION"] in html.split("Phiên bản ứng dụng")[-1]


def test_a_level1_citizen_is_told_how_to_reach_level_2(client, level1_citizen):
    client.force_login(level1_citizen)
    html = client.get(reverse("identity:profile")).content.decode()
    assert "Mức 1" in html
    assert "cơ quan Công an" in html


def test_the_profile_shows_only_the_signed_in_citizen(client, citizen, other_citizen):
    client.force_login(citizen)
    html = client.get(reverse("identity:profile")).content.decode()
    assert other_citizen.username not in html
    assert other_citizen.citizen.full_name not in html


def test_the_staff_home_shows_name_unit_facility_and_roles(client, clinician):
    client.force_login(clinician)
    response = client.get(reverse("identity:staff_home"))
    html = response.content.decode()
    for text in (
        "Trần Thị Lan",
        clinician.org_unit.name,
        clinician.facility.code,
        "Người hành nghề khám chữa bệnh",
    ):
        assert text in html
    assert "Tra cứu sổ sức khỏe" in html
    assert "Theo dõi triển khai" not in html


def test_the_staff_home_menu_follows_the_permissions(client, centre_admin):
    client.force_login(centre_admin)
    html = client.get(reverse("identity:staff_home")).content.decode()
    assert "Theo dõi triển khai" in html
    assert "Tra cứu sổ sức khỏe" not in html


def test_reception_staff_find_only_the_reception_form_on_their_home(client, reception_staff):
    client.force_login(reception_staff)
    html = client.get(reverse("identity:staff_home")).content.decode()
    assert "Nhân viên tiếp đón" in html  # the role's label
    assert "Hướng dẫn người bệnh tại khu vực tiếp đón" in html
    assert reverse("rollout:reception") in html
    for other in ("Báo cáo của đơn vị", "Theo dõi triển khai", "Tra cứu sổ sức khỏe"):
        assert other not in html


def test_the_staff_home_is_404_for_citizens_and_a_redirect_for_the_anonymous(client, citizen):
    assert client.get(reverse("identity:staff_home")).url.startswith(reverse("identity:staff_login"))
    client.force_login(citizen)
    assert client.get(reverse("identity:staff_home")).status_code == 404


def test_the_citizen_home_costs_a_bounded_number_of_queries(client, citizen, django_assert_max_num_queries):
    client.force_login(citizen)
    with django_assert_max_num_queries(6):
        assert client.get(reverse("identity:citizen_home")).status_code == 200
