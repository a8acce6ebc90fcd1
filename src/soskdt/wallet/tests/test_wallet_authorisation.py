"""Who may see what: a citizen sees only their own wallet and requests; everybody else gets nothing."""

import pytest
from django.urls import reverse

from soskdt.registry.models import InsuranceCard
from soskdt.wallet import services
from soskdt.wallet.models import CardLinkRequest

PAGES = ["wallet:home", "wallet:integrations", "wallet:new_request"]
API = "/api/v1/me/wallet/"


@pytest.fixture
def their_request(other_citizen, queue_never_runs):
    card = InsuranceCard.objects.get(holder_personal_id=other_citizen.citizen.personal_id)
    return services.submit_link_request(
        user=other_citizen, value=card.social_insurance_number, issuer="BHXH_VN", app_version="2.0.4"
    )


@pytest.fixture
def my_request(citizen, citizen_card, queue_never_runs):
    return services.submit_link_request(
        user=citizen, value=citizen_card.social_insurance_number, issuer="BHXH_VN", app_version="2.0.4"
    )


# --- pages ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_the_anonymous_are_sent_to_the_citizen_login(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("identity:login"))


def test_the_anonymous_are_sent_to_login_from_a_request_page(client, my_request):
    response = client.get(reverse("wallet:request_detail", args=[my_request.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("identity:login"))


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("persona", ["clinician", "unit_reporter", "centre_admin", "staff_member"])
def test_staff_accounts_get_404(client, request, name, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse(name)).status_code == 404


def test_a_staff_account_gets_404_for_a_citizens_request(client, clinician, my_request):
    client.force_login(clinician)
    assert client.get(reverse("wallet:request_detail", args=[my_request.pk])).status_code == 404


def test_a_citizen_sees_their_own_request(client, citizen, my_request):
    client.force_login(citizen)
    assert client.get(reverse("wallet:request_detail", args=[my_request.pk])).status_code == 200


def test_another_citizens_request_is_404_like_a_missing_one(client, citizen, their_request):
    client.force_login(citizen)
    assert client.get(reverse("wallet:request_detail", args=[their_request.pk])).status_code == 404
    assert client.get(reverse("wallet:request_detail", args=[their_request.pk + 1000])).status_code == 404


def test_the_request_list_shows_only_the_citizens_own_requests(client, citizen, my_request, their_request):
    client.force_login(citizen)
    html = client.get(reverse("wallet:integrations")).content.decode()
    assert reverse("wallet:request_detail", args=[my_request.pk]) in html
    assert reverse("wallet:request_detail", args=[their_request.pk]) not in html
    assert their_request.typed_value not in html


def test_a_staff_post_creates_nothing(client, clinician):
    client.force_login(clinician)
    response = client.post(
        reverse("wallet:new_request"), {"document_type": "BHYT", "issuer": "BHXH_VN", "value": "7900001234"}
    )
    assert response.status_code == 404
    assert not CardLinkRequest.objects.exists()


# --- API -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("get", ""), ("get", "requests"), ("post", "requests"), ("get", "requests/1")]
)
def test_the_api_answers_401_without_credentials(client, db, method, path):
    response = getattr(client, method)(API + path, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(("method", "path"), [("get", ""), ("get", "requests"), ("post", "requests")])
def test_the_api_answers_404_to_staff(client, clinician, bearer, method, path):
    body = {"type": "BHYT", "value": "7900001234", "issuer": "BHXH_VN"}
    response = getattr(client, method)(
        API + path, body if method == "post" else None, content_type="application/json", **bearer(clinician)
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert not CardLinkRequest.objects.exists()


def test_the_api_answers_404_to_staff_for_a_citizens_request(client, clinician, my_request, bearer):
    assert client.get(f"{API}requests/{my_request.pk}", **bearer(clinician)).status_code == 404


def test_the_api_gives_a_citizen_their_own_request(client, citizen, my_request, bearer):
    response = client.get(f"{API}requests/{my_request.pk}", **bearer(citizen))
    assert response.status_code == 200
    assert response.json()["id"] == my_request.pk


def test_the_api_answers_404_for_another_citizens_request(client, citizen, their_request, bearer):
    response = client.get(f"{API}requests/{their_request.pk}", **bearer(citizen))
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "NOT_FOUND", "message": "Không tìm thấy.", "details": []}}


def test_the_api_list_holds_only_the_callers_requests(client, citizen, my_request, their_request, bearer):
    body = client.get(f"{API}requests", **bearer(citizen)).json()
    assert [item["id"] for item in body["items"]] == [my_request.pk]
    assert body["count"] == 1
