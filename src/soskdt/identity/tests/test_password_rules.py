import pytest

from soskdt.core.errors import DomainError
from soskdt.identity import services
from soskdt.identity.passwords import password_problems
from soskdt.testing import DEFAULT_PASSWORD, make_citizen, make_citizen_account, make_orgunit


@pytest.mark.parametrize("password", ["SoSKDT@2025", "Ab1!abcd", "Mật_Khẩu9x", "Aa1!" + "x" * 16])
def test_a_password_with_8_to_20_chars_upper_lower_digit_and_special_is_accepted(password):
    assert password_problems(password) == []


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Ab1!abc", "PASSWORD_TOO_SHORT"),
        ("Ab1!" + "x" * 17, "PASSWORD_TOO_LONG"),
        ("soskdt@2025", "PASSWORD_NEEDS_UPPER"),
        ("SOSKDT@2025", "PASSWORD_NEEDS_LOWER"),
        ("SoSKDT@abcd", "PASSWORD_NEEDS_DIGIT"),
        ("SoSKDT2025a", "PASSWORD_NEEDS_SPECIAL"),
    ],
)
def test_a_password_breaking_one_rule_is_refused_with_that_rule(password, problem):
    assert password_problems(password) == [problem]


def test_every_broken_rule_is_listed_at_once():
    assert set(password_problems("abc")) == {
        "PASSWORD_TOO_SHORT",
        "PASSWORD_NEEDS_UPPER",
        "PASSWORD_NEEDS_DIGIT",
        "PASSWORD_NEEDS_SPECIAL",
    }


@pytest.mark.django_db
def test_creating_a_citizen_account_with_a_weak_password_is_refused_with_every_problem():
    with pytest.raises(DomainError) as caught:
        services.create_citizen_account(citizen=make_citizen(), password="abc", assurance_level=2)
    assert caught.value.code == "PASSWORD_REJECTED"
    codes = {detail["code"] for detail in caught.value.details}
    assert {
        "PASSWORD_TOO_SHORT",
        "PASSWORD_NEEDS_UPPER",
        "PASSWORD_NEEDS_DIGIT",
        "PASSWORD_NEEDS_SPECIAL",
    } <= codes
    assert all(detail["field"] == "password" and detail["message"] for detail in caught.value.details)


@pytest.mark.django_db
def test_creating_a_staff_account_with_a_weak_password_is_refused():
    with pytest.raises(DomainError) as caught:
        services.create_staff_account(
            username="canbo.a", full_name="A", password="password", org_unit=make_orgunit()
        )
    assert caught.value.code == "PASSWORD_REJECTED"


@pytest.mark.django_db
def test_changing_to_a_weak_password_is_refused_and_keeps_the_old_one():
    user = make_citizen_account()
    with pytest.raises(DomainError):
        services.set_password(user=user, password="short")
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.django_db
def test_changing_to_a_good_password_replaces_the_old_one():
    user = make_citizen_account()
    services.set_password(user=user, password="Moi#Matkhau7")
    user.refresh_from_db()
    assert user.check_password("Moi#Matkhau7")
    assert not user.check_password(DEFAULT_PASSWORD)


def test_the_messages_are_vietnamese_with_diacritics():
    from soskdt.core.errors import message_for

    assert message_for("PASSWORD_TOO_SHORT") == "Mật khẩu phải có từ 8 đến 20 ký tự."
