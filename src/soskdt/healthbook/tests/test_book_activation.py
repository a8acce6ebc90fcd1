"""First use: the terms and "Đồng ý sử dụng" (recorded with time, version and by whom), then the passcode."""

import pytest
from django.urls import reverse
from django.utils import timezone

from soskdt import testing
from soskdt.core.errors import DomainError
from soskdt.healthbook import book as services
from soskdt.healthbook import terms
from soskdt.healthbook.models import AccessLog, Book, ConsentActor
from soskdt.healthbook.tests.conftest import CTX, PASSCODE, activate


def test_consent_is_recorded_with_the_time_the_terms_version_and_the_citizen(citizen):
    before = timezone.now()
    book = services.accept_terms(
        viewer=citizen, who=citizen.citizen_id, terms_version=terms.CURRENT_VERSION, context=CTX
    )
    book.refresh_from_db()
    assert book.terms_version == terms.CURRENT_VERSION
    assert before <= book.terms_accepted_at <= timezone.now()
    assert book.terms_accepted_by == citizen
    assert book.terms_accepted_as == ConsentActor.CITIZEN
    # The own book is activated only once its passcode is set.
    assert book.activated_at is None
    assert AccessLog.objects.filter(owner=citizen.citizen, action="book.terms").count() == 1


def test_consent_to_an_older_terms_version_is_refused(citizen):
    with pytest.raises(DomainError) as refused:
        services.accept_terms(viewer=citizen, who=citizen.citizen_id, terms_version="2019.1", context=CTX)
    assert refused.value.code == "BOOK_TERMS_VERSION_OUTDATED"
    assert refused.value.status == 409
    assert not Book.objects.exists()


def test_setting_the_passcode_after_consent_activates_the_book(citizen):
    book = activate(citizen)
    assert book.activated_at is not None
    assert book.passcode_set_at is not None
    assert book.has_passcode


def test_the_passcode_cannot_be_set_before_consent(citizen):
    with pytest.raises(DomainError) as refused:
        services.set_passcode(viewer=citizen, passcode=PASSCODE, confirm=PASSCODE, context=CTX)
    assert refused.value.code == "BOOK_TERMS_NOT_ACCEPTED"


@pytest.mark.parametrize(
    ("passcode", "code"),
    [
        ("12345", "PASSCODE_INVALID"),
        ("1234567", "PASSCODE_INVALID"),
        ("12a456", "PASSCODE_INVALID"),
        ("１２３４５６", "PASSCODE_INVALID"),
        ("", "PASSCODE_INVALID"),
        ("111111", "PASSCODE_TOO_SIMPLE"),
        ("123456", "PASSCODE_TOO_SIMPLE"),
        ("987654", "PASSCODE_TOO_SIMPLE"),
    ],
)
def test_a_passcode_is_exactly_six_digits_and_not_trivial(passcode, code):
    with pytest.raises(DomainError) as refused:
        services.check_passcode_rules(passcode)
    assert refused.value.code == code
    assert refused.value.status == 422


def test_the_two_passcode_entries_must_match():
    with pytest.raises(DomainError) as refused:
        services.check_passcode_rules("246813", "246831")
    assert refused.value.code == "PASSCODE_MISMATCH"
    assert services.check_passcode_rules("246813", "246813") == "246813"


def test_a_passcode_already_set_is_changed_only_by_the_otp_reset(citizen):
    activate(citizen)
    with pytest.raises(DomainError) as refused:
        services.set_passcode(viewer=citizen, passcode="975310", confirm="975310", context=CTX)
    assert refused.value.code == "PASSCODE_ALREADY_SET"


def test_a_level1_account_cannot_activate_a_book(level1_citizen):
    with pytest.raises(DomainError) as refused:
        services.accept_terms(
            viewer=level1_citizen,
            who=level1_citizen.citizen_id,
            terms_version=terms.CURRENT_VERSION,
            context=CTX,
        )
    assert refused.value.code == "BOOK_LEVEL2_REQUIRED"
    assert refused.value.status == 403


def test_a_representative_consents_for_a_child_after_activating_their_own_book(citizen, child):
    with pytest.raises(DomainError) as refused:
        services.accept_terms(viewer=citizen, who=child.pk, terms_version=terms.CURRENT_VERSION, context=CTX)
    assert refused.value.code == "BOOK_OWN_BOOK_FIRST"
    activate(citizen)
    book = services.accept_terms(
        viewer=citizen, who=child.pk, terms_version=terms.CURRENT_VERSION, context=CTX
    )
    assert book.citizen_id == child.pk
    assert book.terms_accepted_by == citizen
    assert book.terms_accepted_as == ConsentActor.REPRESENTATIVE
    # The child's book has no passcode of its own: the representative's opens it.
    assert book.activated_at is not None and not book.has_passcode


def test_new_terms_ask_for_consent_again(citizen, monkeypatch):
    activate(citizen)
    monkeypatch.setattr(terms, "CURRENT_VERSION", "2099.1")
    with pytest.raises(DomainError) as refused:
        services.unlock_book(
            viewer=citizen, who=citizen.citizen_id, passcode=PASSCODE, context=CTX, issue_token=False
        )
    assert refused.value.code == "BOOK_TERMS_VERSION_OUTDATED"


# --- the pages -----------------------------------------------------------------------------------------


def test_the_first_visit_to_the_book_shows_the_terms_with_dong_y_su_dung(client, citizen):
    client.force_login(citizen)
    response = client.get(reverse("healthbook:book", args=[citizen.username]))
    assert response.status_code == 302
    assert response.url == reverse("healthbook:terms", args=[citizen.username])
    html = client.get(response.url).content.decode()
    assert "Điều khoản sử dụng Sổ sức khỏe điện tử" in html
    assert "Đồng ý sử dụng" in html
    assert f'value="{terms.CURRENT_VERSION}"' in html


def test_agreeing_on_the_page_leads_to_setting_the_passcode_twice(client, citizen):
    client.force_login(citizen)
    url = reverse("healthbook:terms", args=[citizen.username])
    response = client.post(url, {"agree": "1", "terms_version": terms.CURRENT_VERSION})
    assert response.url == reverse("healthbook:set_passcode")
    html = client.get(response.url).content.decode()
    assert 'inputmode="numeric"' in html and 'maxlength="6"' in html
    assert "Nhập lại passcode" in html
    response = client.post(
        reverse("healthbook:set_passcode"), {"passcode": "975310", "passcode_confirm": "975311"}
    )
    assert response.status_code == 422
    assert "Hai lần nhập passcode không giống nhau." in response.content.decode()
    response = client.post(
        reverse("healthbook:set_passcode"), {"passcode": "975310", "passcode_confirm": "975310"}
    )
    assert response.url == reverse("healthbook:book", args=[citizen.username])
    book = Book.objects.get(citizen=citizen.citizen)
    assert book.activated_at is not None
    # Setting the passcode opens the book at once.
    assert client.get(response.url).status_code == 200


def test_a_level1_citizen_is_told_that_the_book_needs_level2(client, level1_citizen):
    client.force_login(level1_citizen)
    response = client.get(reverse("healthbook:terms", args=[level1_citizen.username]))
    assert response.status_code == 403
    assert "định danh điện tử mức 2" in response.content.decode()


def test_the_child_s_book_asks_the_parent_to_activate_their_own_book_first(client, citizen, child):
    client.force_login(citizen)
    response = client.get(reverse("healthbook:terms", args=[child.personal_id]))
    assert response.status_code == 409
    assert reverse("healthbook:terms", args=[citizen.username]) in response.content.decode()


def test_a_book_activated_without_a_passcode_asks_for_one(client, citizen):
    # The roll-out demo records activated books of staff without a passcode.
    Book.objects.create(
        citizen=citizen.citizen,
        terms_version=terms.CURRENT_VERSION,
        terms_accepted_at=timezone.now(),
        activated_at=timezone.now(),
    )
    client.force_login(citizen)
    response = client.get(reverse("healthbook:book", args=[citizen.username]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("healthbook:set_passcode")
    with pytest.raises(DomainError) as refused:
        services.unlock_book(
            viewer=citizen, who=citizen.citizen_id, passcode=PASSCODE, context=CTX, issue_token=True
        )
    assert refused.value.code == "PASSCODE_NOT_SET"


def test_a_second_citizen_activates_independently(citizen):
    other = testing.make_citizen_account()
    activate(citizen)
    activate(other, passcode="135790")
    assert Book.objects.filter(activated_at__isnull=False).count() == 2
