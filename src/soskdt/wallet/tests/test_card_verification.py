"""Checking a request against the insurance register: each rejection, and approval into the wallet."""

import datetime as dt
import unicodedata

import pytest
from django.utils import timezone

from soskdt import testing
from soskdt.core import reasons
from soskdt.registry.models import CardIssuer, InsuranceCard, Sex
from soskdt.wallet import selectors, services, tasks
from soskdt.wallet.models import CardLinkRequest, LinkedCard, LinkStatus


@pytest.fixture
def submit(db, queue_never_runs):
    """Submit without running the job, then let the test run the check itself."""

    def run(user, value, issuer=CardIssuer.VSS):
        request = services.submit_link_request(user=user, value=value, issuer=issuer, app_version="2.0.4")
        return services.verify_link_request(request_id=request.pk)

    return run


def rejected(request, code, reason):
    assert request.status == LinkStatus.REJECTED
    assert (request.rejection_code, request.reason_code) == (code, reason)
    assert reason in reasons.CARD
    assert request.decided_at is not None
    assert not LinkedCard.objects.filter(request=request).exists()
    explanation = selectors.explanation_of(request)
    assert explanation.message and explanation.advice
    return explanation


def test_a_matching_valid_card_is_approved_and_goes_into_the_wallet(citizen, citizen_card, submit):
    request = submit(citizen, citizen_card.social_insurance_number)
    assert request.status == LinkStatus.APPROVED
    assert request.card == citizen_card
    assert (request.rejection_code, request.reason_code) == ("", "")
    linked = selectors.linked_card_of(citizen)
    assert linked.card == citizen_card and linked.request == request and linked.is_current


def test_the_full_card_code_links_the_same_card(citizen, citizen_card, submit):
    assert submit(citizen, citizen_card.code).card == citizen_card


def test_a_number_not_in_the_register_is_a_wrong_number_when_the_person_has_another_card(citizen, submit):
    explanation = rejected(submit(citizen, "7999999999"), "CARD_NOT_FOUND", "WRONG_NUMBER")
    assert "7999999999" in explanation.message
    assert "10 kí tự cuối" in explanation.advice


def test_a_number_not_in_the_register_is_not_matched_when_the_person_has_no_card_at_all(submit):
    person = testing.make_citizen_account(assurance_level=2)
    explanation = rejected(submit(person, "7999999999"), "CARD_NOT_FOUND", "INSURANCE_NOT_MATCHED")
    assert "cơ quan BHXH" in explanation.advice


def test_a_police_card_not_in_the_register_is_an_armed_forces_card(citizen, submit):
    rejected(submit(citizen, "7999999999", CardIssuer.POLICE), "CARD_NOT_FOUND", "ARMED_FORCES_CARD")


def test_another_persons_card_is_not_matched_and_reveals_nothing_about_them(citizen, other_citizen, submit):
    theirs = InsuranceCard.objects.get(holder_personal_id=other_citizen.citizen.personal_id)
    request = submit(citizen, theirs.social_insurance_number)
    explanation = rejected(request, "INSURANCE_NOT_MATCHED", "INSURANCE_NOT_MATCHED")
    assert request.card is None
    assert other_citizen.citizen.full_name not in explanation.message + explanation.advice
    assert not LinkedCard.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"full_name": "Nguyễn Văn Bình"}, "full_name"),
        ({"birth_day": 16}, "birth_date"),
        ({"birth_year": 1986}, "birth_date"),
        ({"sex": Sex.FEMALE}, "sex"),
    ],
)
def test_personal_data_that_differs_from_the_population_register_is_a_mismatch_naming_the_field(
    citizen, citizen_card, submit, change, field
):
    InsuranceCard.objects.filter(pk=citizen_card.pk).update(**change)
    request = submit(citizen, citizen_card.social_insurance_number)
    explanation = rejected(request, "PERSONAL_DATA_MISMATCH", "PERSONAL_DATA_MISMATCH")
    assert explanation.fields == (field,)
    label = {"full_name": "họ và tên", "birth_date": "ngày sinh", "sex": "giới tính"}[field]
    assert label in explanation.message
    assert explanation.advice == "Liên hệ cơ quan BHXH nơi cấp thẻ để điều chỉnh thông tin cho khớp với CCCD."


def test_every_differing_field_is_named(citizen, citizen_card, submit):
    InsuranceCard.objects.filter(pk=citizen_card.pk).update(full_name="Lê Thị Hoa", sex=Sex.FEMALE)
    explanation = rejected(
        submit(citizen, citizen_card.social_insurance_number),
        "PERSONAL_DATA_MISMATCH",
        "PERSONAL_DATA_MISMATCH",
    )
    assert explanation.fields == ("full_name", "sex")
    assert "họ và tên, giới tính" in explanation.message


def test_names_match_regardless_of_case_spacing_and_unicode_composition(submit):
    person = testing.make_citizen_account(full_name="Nguyễn Thị Ánh Tuyết")
    card = testing.make_card(citizen=person.citizen)
    decomposed_upper = unicodedata.normalize("NFD", "  NGUYỄN   THỊ ÁNH  TUYẾT ")
    InsuranceCard.objects.filter(pk=card.pk).update(full_name=decomposed_upper)
    assert submit(person, card.social_insurance_number).status == LinkStatus.APPROVED


def test_a_birth_date_known_only_to_the_year_on_the_card_still_matches(citizen, citizen_card, submit):
    InsuranceCard.objects.filter(pk=citizen_card.pk).update(birth_month=None, birth_day=None)
    assert submit(citizen, citizen_card.social_insurance_number).status == LinkStatus.APPROVED


def test_an_expired_card_is_rejected_with_its_validity(citizen, citizen_card, submit):
    today = timezone.localdate()
    InsuranceCard.objects.filter(pk=citizen_card.pk).update(
        valid_from=today - dt.timedelta(days=400), valid_to=today - dt.timedelta(days=1)
    )
    explanation = rejected(
        submit(citizen, citizen_card.social_insurance_number), "CARD_EXPIRED", "NO_CARD_OR_EXPIRED"
    )
    assert (today - dt.timedelta(days=1)).strftime("%d/%m/%Y") in explanation.message
    assert "Gia hạn" in explanation.advice


def test_a_card_not_yet_valid_is_rejected_as_not_valid_today(citizen, citizen_card, submit):
    today = timezone.localdate()
    InsuranceCard.objects.filter(pk=citizen_card.pk).update(
        valid_from=today + dt.timedelta(days=1), valid_to=today + dt.timedelta(days=365)
    )
    rejected(submit(citizen, citizen_card.social_insurance_number), "CARD_EXPIRED", "NO_CARD_OR_EXPIRED")


def test_a_renewed_card_with_the_same_number_links_the_period_valid_today(citizen, citizen_card, submit):
    today = timezone.localdate()
    old = testing.make_card(
        citizen=citizen.citizen,
        social_insurance_number=citizen_card.social_insurance_number,
        code=citizen_card.code,
        valid_from=today - dt.timedelta(days=800),
        valid_to=today - dt.timedelta(days=400),
    )
    request = submit(citizen, citizen_card.social_insurance_number)
    assert request.status == LinkStatus.APPROVED
    assert request.card == citizen_card != old


def test_a_card_of_the_other_issuer_is_a_wrong_issuer_telling_which_to_choose(citizen, citizen_card, submit):
    explanation = rejected(
        submit(citizen, citizen_card.social_insurance_number, CardIssuer.POLICE),
        "WRONG_ISSUER",
        "WRONG_ISSUER",
    )
    assert "BHXH Việt Nam" in explanation.message
    assert "BHXH Việt Nam" in explanation.advice


def test_a_police_card_chosen_as_police_is_approved(submit):
    person = testing.make_citizen_account()
    card = testing.make_card(citizen=person.citizen, group="CA", issuer=CardIssuer.POLICE)
    assert submit(person, card.social_insurance_number, CardIssuer.POLICE).status == LinkStatus.APPROVED


def test_the_checks_run_in_order_and_a_mismatch_comes_before_expiry_and_issuer(citizen, citizen_card, submit):
    today = timezone.localdate()
    InsuranceCard.objects.filter(pk=citizen_card.pk).update(
        sex=Sex.FEMALE, valid_to=today - dt.timedelta(days=1), valid_from=today - dt.timedelta(days=30)
    )
    request = submit(citizen, citizen_card.social_insurance_number, CardIssuer.POLICE)
    assert request.rejection_code == "PERSONAL_DATA_MISMATCH"


def test_linking_a_new_card_replaces_the_current_one_and_keeps_the_history(citizen, citizen_card, submit):
    first = submit(citizen, citizen_card.social_insurance_number)
    newer = testing.make_card(citizen=citizen.citizen, group="HC", province="01")
    second = submit(citizen, newer.social_insurance_number)
    history = list(selectors.linked_card_history_of(citizen))
    assert [row.request for row in history] == [second, first]
    assert history[0].is_current and not history[1].is_current
    assert selectors.linked_card_of(citizen).card == newer


def test_verifying_twice_changes_nothing_the_second_time(citizen, citizen_card, submit):
    request = submit(citizen, citizen_card.social_insurance_number)
    again = services.verify_link_request(request_id=request.pk)
    assert again.decided_at == request.decided_at
    assert LinkedCard.objects.count() == 1


def test_the_request_stays_pending_while_the_job_has_not_run(
    citizen, citizen_card, queue_never_runs, on_commit
):
    with on_commit():
        request = services.submit_link_request(
            user=citizen, value=citizen_card.social_insurance_number, issuer="BHXH_VN", app_version="2.0.4"
        )
    request.refresh_from_db()
    assert request.status == LinkStatus.PENDING
    assert selectors.linked_card_of(citizen) is None


def test_the_task_decides_the_request_and_tolerates_a_missing_one(citizen, citizen_card, queue_never_runs):
    request = services.submit_link_request(
        user=citizen, value=citizen_card.social_insurance_number, issuer="BHXH_VN", app_version="2.0.4"
    )
    assert tasks.verify_card_link_request.call(request.pk) == LinkStatus.APPROVED
    assert tasks.verify_card_link_request.call(request.pk) == LinkStatus.APPROVED
    assert tasks.verify_card_link_request.call(987654) == "missing"


def test_the_rollout_reads_who_has_a_card_and_why_others_do_not(
    citizen, citizen_card, other_citizen, level1_citizen, submit
):
    submit(citizen, citizen_card.social_insurance_number)
    submit(other_citizen, "7999999999")
    ids = [citizen.citizen_id, other_citizen.citizen_id, level1_citizen.citizen_id]
    assert selectors.citizens_with_linked_card(ids) == {citizen.citizen_id}
    assert selectors.why_not_linked(ids) == {other_citizen.citizen_id: "WRONG_NUMBER"}
    assert CardLinkRequest.objects.count() == 2
