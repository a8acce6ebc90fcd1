import pytest
from django.urls import reverse

from soskdt.identity import services
from soskdt.identity.models import ApiToken, User
from soskdt.testing import make_orgunit, make_staff

pytestmark = pytest.mark.django_db


def _admin_client(client):
    client.force_login(make_staff(username="quantri", is_superuser=True))
    return client


def test_the_user_changelist_loads_and_searches_by_personal_id_and_name(
    client, citizen, other_citizen, clinician
):
    _admin_client(client)
    url = reverse("admin:identity_user_changelist")
    assert client.get(url).status_code == 200
    html = client.get(url, {"q": citizen.citizen.personal_id}).content.decode()
    assert citizen.username in html
    assert other_citizen.username not in html
    html = client.get(url, {"q": "Trần Thị Lan"}).content.decode()
    assert clinician.username in html


def test_the_user_changelist_filters_by_kind_level_role_and_unit(client, citizen, level1_citizen, clinician):
    _admin_client(client)
    url = reverse("admin:identity_user_changelist")
    for params in (
        {"kind": "staff"},
        {"assurance_level": "2"},
        {"roles__role": "clinician"},
        {"org_unit__id__exact": clinician.org_unit_id},
    ):
        assert client.get(url, params).status_code == 200
    html = client.get(url, {"roles__role": "clinician"}).content.decode()
    assert clinician.username in html
    assert citizen.username not in html


def test_the_user_change_page_shows_roles_and_a_password_change_link(client, clinician):
    _admin_client(client)
    html = client.get(reverse("admin:identity_user_change", args=[clinician.pk])).content.decode()
    assert "roles-TOTAL_FORMS" in html
    assert "password/" in html
    assert client.get(reverse("admin:auth_user_password_change", args=[clinician.pk])).status_code == 200


def test_the_admin_password_change_enforces_the_password_rules(client, clinician):
    _admin_client(client)
    url = reverse("admin:auth_user_password_change", args=[clinician.pk])
    response = client.post(url, {"password1": "weakweak", "password2": "weakweak"})
    assert response.status_code == 200
    assert "Mật khẩu phải có ít nhất một chữ in hoa." in response.content.decode()


def test_the_user_add_page_creates_a_staff_account(client):
    _admin_client(client)
    url = reverse("admin:identity_user_add")
    assert client.get(url).status_code == 200
    unit = make_orgunit()
    data = {"username": "ketoan.ha", "kind": "staff", "full_name": "Đỗ Thu Hà", "org_unit": unit.pk}
    data |= {"usable_password": "true", "password1": "Ketoan#2025", "password2": "Ketoan#2025"}
    assert client.post(url, data).status_code == 302
    created = User.objects.get(username="ketoan.ha")
    assert created.check_password("Ketoan#2025")
    assert created.org_unit == unit


def test_the_user_add_page_refuses_a_citizen_account_without_a_person(client):
    _admin_client(client)
    data = {"username": "079085000777", "kind": "citizen", "usable_password": "true"}
    data |= {"password1": "Ketoan#2025", "password2": "Ketoan#2025"}
    response = client.post(reverse("admin:identity_user_add"), data)
    assert response.status_code == 200
    assert not User.objects.filter(username="079085000777").exists()


def test_api_tokens_are_read_only_and_never_show_the_digest(client, citizen):
    _admin_client(client)
    _plaintext, token = services.issue_api_token(user=citizen)
    changelist = client.get(reverse("admin:identity_apitoken_changelist")).content.decode()
    assert token.prefix in changelist
    detail = client.get(reverse("admin:identity_apitoken_change", args=[token.pk])).content.decode()
    assert token.digest not in changelist + detail
    assert client.get(reverse("admin:identity_apitoken_add")).status_code == 403


def test_an_administrator_can_revoke_tokens(client, citizen):
    _admin_client(client)
    _plaintext, token = services.issue_api_token(user=citizen)
    client.post(
        reverse("admin:identity_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_a_citizen_account_made_in_the_admin_must_use_the_personal_id(client):
    from soskdt.testing import make_citizen

    _admin_client(client)
    person = make_citizen()
    data = {"username": "someone", "kind": "citizen", "citizen": person.pk, "usable_password": "true"}
    data |= {"password1": "Ketoan#2025", "password2": "Ketoan#2025"}
    assert client.post(reverse("admin:identity_user_add"), data).status_code == 200
    data["username"] = person.personal_id
    assert client.post(reverse("admin:identity_user_add"), data).status_code == 302
    assert User.objects.get(username=person.personal_id).citizen == person
