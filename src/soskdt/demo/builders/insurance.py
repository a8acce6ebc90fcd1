"""The insurance register: BHYT cards, some expired, some with history, a few disagreeing with the register."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from soskdt.demo import names
from soskdt.demo.builders.common import BATCH_SIZE, Numbers, age_of, shift_years
from soskdt.demo.builders.organisation import HOSPITAL_CODE, POLYCLINIC_CODE, STATION_FACILITY_CODE
from soskdt.demo.builders.population import OCCUPATION_GROUP, Household
from soskdt.registry.models import CardIssuer, Citizen, InsuranceCard, Sex

# Benefit level by group (QĐ 1351/QĐ-BHXH): 1 = 100% without ceiling, 2 = 100% with ceiling, 3 = 95%,
# 4 = 80%, 5 = 100% including transport (army, police).
BENEFIT_LEVEL: dict[str, int] = {"TE": 1, "CC": 1, "HN": 2, "BT": 2, "HT": 3, "CN": 3, "CA": 5}
LONG_CARDS = frozenset({"HT", "CC", "BT"})
# Employees' cards are paid through their employer, whatever their household's situation.
EMPLOYER_PAID = frozenset({"DN", "HC", "CA"})
# Province part of cards issued by BHXH Công an nhân dân (97 is BHXH Bộ Quốc phòng), as we read QĐ 1351.
POLICE_CARD_PROVINCE = "98"
MISMATCH_SHARE = 0.015
MIN_MISMATCHES = 3


@dataclass
class CardPlan:
    citizen: Citizen
    group: str
    state: str  # "current", "history" (an expired card then the current one), "expired" or "none"
    facility_code: str
    old_group: str = ""


@dataclass
class Cards:
    cards: list[InsuranceCard]
    mismatched: dict[str, str]  # personal ID -> "name", "birth" or "sex"
    with_history: list[str]
    expired_only: list[str]
    uninsured: list[str]

    def valid_on(self, day: dt.date) -> dict[str, InsuranceCard]:
        return {c.holder_personal_id: c for c in self.cards if c.is_valid_on(day)}


def _card_group(rng: random.Random, citizen: Citizen, age: int, household: Household) -> str:
    if age < 6:
        return "TE"
    group = OCCUPATION_GROUP.get(citizen.occupation, "GD")
    if group in EMPLOYER_PAID:
        return group
    if household.poverty:
        return household.poverty
    if age >= 60:
        if citizen.occupation == "Hưu trí":
            return "HT"
        if age >= 75 and rng.random() < 0.08:
            return "CC"
        if age >= 80 and rng.random() < 0.5:
            return "BT"
    return group


def _plan_card(
    rng: random.Random, citizen: Citizen, today: dt.date, household: Household, forced: str | None
) -> CardPlan:
    age = age_of(citizen, today)
    group = _card_group(rng, citizen, age, household)
    facility = (
        household.commune.facility_code
        if rng.random() < 0.8
        else rng.choice((HOSPITAL_CODE, POLYCLINIC_CODE, STATION_FACILITY_CODE))
    )
    if forced is not None:
        state = forced
    elif group == "TE":
        state = "current"  # children under 6 are always covered
    else:
        roll = rng.random()
        # Household (GD) cards are bought year by year and lapse most often.
        lapse = (0.10, 0.08) if group == "GD" else (0.04, 0.01)
        state = (
            "expired"
            if roll < lapse[0]
            else "none"
            if roll < sum(lapse)
            else "history"
            if roll < sum(lapse) + 0.15
            else "current"
        )
    plan = CardPlan(citizen, group, state, facility)
    if 6 <= age <= 7 and group == "HS":
        plan.state, plan.old_group = ("history", "TE") if state in ("current", "history") else (state, "")
    elif plan.state == "history":
        plan.old_group = rng.choice(("DN", "HC")) if group == "HT" and age < 66 else group
    return plan


def _mismatched_identity(citizen: Citizen, variant: str) -> tuple[str, int, int | None, int | None, str]:
    """The insurance register's version of a person who differs from the population register."""
    name, year, month, day, sex = (
        citizen.full_name,
        citizen.birth_year,
        citizen.birth_month,
        citizen.birth_day,
        citizen.sex,
    )
    if variant == "name":
        parts = name.split()
        if parts[-1] in names.CONFUSABLE_GIVEN:
            parts[-1] = names.CONFUSABLE_GIVEN[parts[-1]]
        else:
            del parts[-2]  # the middle name left out
        name = " ".join(parts)
    elif variant == "birth":
        if day is None or month is None:
            year += 1
        elif day <= 12 and day != month:
            month, day = day, month  # day and month swapped
        else:
            day = day - 1 if day > 1 else day + 1
    else:
        sex = Sex.FEMALE if sex == Sex.MALE else Sex.MALE
    return name, year, month, day, sex


def _card(
    plan: CardPlan,
    group: str,
    number: str,
    start: dt.date,
    end: dt.date,
    identity: tuple[str, int, int | None, int | None, str],
) -> InsuranceCard:
    police = group == "CA"
    province = POLICE_CARD_PROVINCE if police else names.PROVINCE_CODE
    name, year, month, day, sex = identity
    return InsuranceCard(
        code=f"{group}{BENEFIT_LEVEL.get(group, 4)}{province}{number}",
        social_insurance_number=number,
        holder_personal_id=plan.citizen.personal_id,
        full_name=name,
        birth_year=year,
        birth_month=month,
        birth_day=day,
        sex=sex,
        primary_care_facility_code=plan.facility_code,
        valid_from=start,
        valid_to=end,
        issuer=CardIssuer.POLICE if police else CardIssuer.VSS,
    )


def _periods(rng: random.Random, plan: CardPlan, today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """(group, from, to) of the person's cards, oldest first, never overlapping."""
    birth = plan.citizen.birth_date
    born = dt.date(birth.year, birth.month or 1, birth.day or 1)
    sixth_birthday = shift_years(born, 6)
    if plan.group == "TE":
        return [("TE", born, sixth_birthday - dt.timedelta(days=1))]
    if plan.state == "expired":
        end = today - dt.timedelta(days=rng.randint(15, 500))
        return [(plan.group, shift_years(end, -1) + dt.timedelta(days=1), end)]
    years = 5 if plan.group in LONG_CARDS else 1
    start = today - dt.timedelta(days=rng.randint(0, 4 * 365 if years == 5 else 330))
    if plan.old_group == "TE":
        start = max(start, sixth_birthday)
    periods = [(plan.group, start, shift_years(start, years) - dt.timedelta(days=1))]
    if plan.state == "history":
        old_end = start - dt.timedelta(days=1)
        old_start = born if plan.old_group == "TE" else shift_years(old_end, -1) + dt.timedelta(days=1)
        periods.insert(0, (plan.old_group, old_start, old_end))
    return periods


def build_insurance_cards(
    *,
    rng: random.Random,
    numbers: Numbers,
    today: dt.date,
    citizens: Iterable[Citizen],
    household_of: Mapping[str, Household],
    personas: Mapping[str, Citizen],
) -> Cards:
    """Create the insurance register: most people hold a card valid today, some an expired one or none.

    A few people's cards disagree with the population register (name, birth date or sex), so that linking
    their card is rejected; the "citizen_mismatch" persona is one of them.
    """
    forced = {
        c.personal_id: ("expired" if key == "citizen_expired" else "current") for key, c in personas.items()
    }
    plans = [
        _plan_card(rng, c, today, household_of[c.personal_id], forced.get(c.personal_id)) for c in citizens
    ]
    persona_ids = {c.personal_id for c in personas.values()}
    candidates = [
        p for p in plans if p.state in ("current", "history") and p.citizen.personal_id not in persona_ids
    ]
    count = max(MIN_MISMATCHES, round(MISMATCH_SHARE * len(candidates)))
    mismatched = {personas["citizen_mismatch"].personal_id: "name"}
    for index, plan in enumerate(rng.sample(candidates, min(count, len(candidates)))):
        mismatched[plan.citizen.personal_id] = ("name", "birth", "sex")[index % 3]
    cards: list[InsuranceCard] = []
    for plan in plans:
        if plan.state == "none":
            continue
        citizen = plan.citizen
        variant = mismatched.get(citizen.personal_id)
        identity = (
            _mismatched_identity(citizen, variant)
            if variant
            else (citizen.full_name, citizen.birth_year, citizen.birth_month, citizen.birth_day, citizen.sex)
        )
        # The lifelong number starts with the code of the province that first issued it.
        prefix = names.PROVINCE_CODE if age_of(citizen, today) < 18 else citizen.personal_id[1:3]
        number = numbers.social_insurance_number(rng, prefix)
        for group, start, end in _periods(rng, plan, today):
            cards.append(_card(plan, group, number, start, end, identity))
    InsuranceCard.objects.bulk_create(cards, batch_size=BATCH_SIZE)
    return Cards(
        cards=cards,
        mismatched=mismatched,
        with_history=[p.citizen.personal_id for p in plans if p.state == "history"],
        expired_only=[p.citizen.personal_id for p in plans if p.state == "expired"],
        uninsured=[p.citizen.personal_id for p in plans if p.state == "none"],
    )
