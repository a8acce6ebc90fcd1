"""The population register: households of the An Phú communes, minors with their legal representative."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from soskdt.demo import names
from soskdt.demo.builders.common import (
    BATCH_SIZE,
    Numbers,
    age_of,
    birth_date_for_age,
    make_name,
    weighted,
)
from soskdt.registry.models import Citizen, Sex

INCONSISTENT_ID_COUNT = 6
MIN_YEAR_ONLY_BIRTHS = 3


@dataclass
class Household:
    number: int
    commune: names.Commune
    address: str
    poverty: str = ""  # "HN" poor or "CN" near-poor household: the state pays their card


OCCUPATION_GROUP: dict[str, str] = {occupation: group for occupation, group, _w in names.OCCUPATIONS}
OCCUPATION_GROUP.update({"Sinh viên": "SV", "Học sinh": "HS", "Hưu trí": "HT", names.STAFF_OCCUPATION: "HC"})


@dataclass
class Population:
    citizens: list[Citizen]
    household_of: dict[str, Household]  # by personal ID
    inconsistent_ids: list[str]  # personal IDs deliberately disagreeing with birth year or sex


def new_household(rng: random.Random, number: int) -> Household:
    commune = rng.choice(names.COMMUNES)
    address = f"Tổ {rng.randint(1, 12)}, ấp {rng.choice(commune.hamlets)}, xã {commune.name}, tỉnh {names.PROVINCE_NAME}"
    roll = rng.random()
    poverty = "HN" if roll < 0.04 else "CN" if roll < 0.09 else ""
    return Household(number, commune, address, poverty)


def _occupation(rng: random.Random, age: int) -> str:
    if age < 6:
        return ""
    if age < 18:
        return "Học sinh"
    if age <= 22 and rng.random() < 0.4:
        return "Sinh viên"
    if age >= 60:
        if rng.random() < 0.2:
            return "Hưu trí"
        return rng.choice(("Làm ruộng", "Nội trợ", "Buôn bán")) if age < 75 else ""
    return weighted(rng, [(occupation, weight) for occupation, _g, weight in names.OCCUPATIONS])


def _occupation_for(rng: random.Random, age: int, sex: str) -> str:
    occupation = _occupation(rng, age)
    # Home-makers in the register are nearly all women; their husbands farm.
    return "Làm ruộng" if occupation == "Nội trợ" and sex == Sex.MALE else occupation


def _phone_for_age(rng: random.Random, numbers: Numbers, age: int) -> str:
    share = 0.0 if age < 14 else 0.5 if age < 18 else 0.5 if age >= 75 else 0.93
    return numbers.phone(rng) if rng.random() < share else ""


def new_person(
    rng: random.Random,
    numbers: Numbers,
    today: dt.date,
    household: Household,
    *,
    age: int,
    sex: str,
    family: str | None = None,
    birth_province: str | None = None,
    occupation: str | None = None,
) -> Citizen:
    birth = birth_date_for_age(rng, today, age)
    # Some elderly people only know their birth year (the register keeps what was declared).
    year_only = birth.year < 1950 and rng.random() < 0.25
    province = birth_province or (
        names.PERSONAL_ID_PROVINCE if age < 18 else weighted(rng, names.BIRTH_PROVINCES)
    )
    return Citizen(
        personal_id=numbers.personal_id(rng, province=province, birth_year=birth.year, sex=sex),
        full_name=make_name(rng, sex=sex, birth_year=birth.year, family=family),
        birth_year=birth.year,
        birth_month=None if year_only else birth.month,
        birth_day=None if year_only else birth.day,
        sex=sex,
        ethnicity="Kinh",
        nationality="Việt Nam",
        occupation=_occupation_for(rng, age, sex) if occupation is None else occupation,
        phone=_phone_for_age(rng, numbers, age),
        address=household.address,
        province_code=names.PROVINCE_CODE,
        commune_code=household.commune.code,
    )


def family_name(citizen: Citizen) -> str:
    return citizen.full_name.split(" ", 1)[0]


def _children(
    rng: random.Random,
    numbers: Numbers,
    today: dt.date,
    household: Household,
    *,
    father: Citizen | None,
    mother: Citizen,
    count: int,
    min_age: int,
    max_age: int,
) -> list[Citizen]:
    family = family_name(father) if father else weighted(rng, names.FAMILY_NAMES)
    kids: list[Citizen] = []
    for _ in range(count):
        if max_age < min_age:
            break
        age = rng.randint(min_age, max_age)
        kid = new_person(
            rng, numbers, today, household, age=age, sex=rng.choice((Sex.MALE, Sex.FEMALE)), family=family
        )
        if age < 18:
            # Parents are the legal representatives of minors (Civil Code 2015, art. 136); under 14 the
            # child's book is managed through the representative's account.
            if father is not None and rng.random() < 0.55:
                kid.representative, kid.representative_relation = father, "Cha"
            else:
                kid.representative, kid.representative_relation = mother, "Mẹ"
        kids.append(kid)
    return kids


def _household_members(
    rng: random.Random, numbers: Numbers, today: dt.date, household: Household
) -> list[Citizen]:
    """The people of one household, parents before children (so a trimmed household keeps its parents)."""
    kind = weighted(rng, [("young", 45), ("older", 20), ("three", 15), ("adults", 12), ("elderly", 8)])
    members: list[Citizen] = []
    if kind in ("young", "older"):
        father_age = rng.randint(26, 45) if kind == "young" else rng.randint(46, 66)
        mother_age = max(20, father_age - rng.randint(-2, 7))
        father = (
            None
            if rng.random() < 0.07
            else new_person(rng, numbers, today, household, age=father_age, sex=Sex.MALE)
        )
        mother = new_person(rng, numbers, today, household, age=mother_age, sex=Sex.FEMALE)
        members += [m for m in (father, mother) if m is not None]
        if kind == "young":
            members += _children(
                rng,
                numbers,
                today,
                household,
                father=father,
                mother=mother,
                count=rng.choice((1, 1, 2, 2, 2, 3)),
                min_age=0,
                max_age=min(17, mother_age - 19),
            )
        else:
            members += _children(
                rng,
                numbers,
                today,
                household,
                father=father,
                mother=mother,
                count=rng.choice((1, 2, 2)),
                min_age=18,
                max_age=min(35, mother_age - 19),
            )
            if rng.random() < 0.35:
                members += _children(
                    rng,
                    numbers,
                    today,
                    household,
                    father=father,
                    mother=mother,
                    count=1,
                    min_age=14,
                    max_age=min(17, mother_age - 19),
                )
    elif kind == "three":
        grandfather_age = rng.randint(62, 90)
        grandfather = (
            None
            if rng.random() < 0.35
            else new_person(rng, numbers, today, household, age=grandfather_age, sex=Sex.MALE)
        )
        grandmother = new_person(
            rng, numbers, today, household, age=max(60, grandfather_age - rng.randint(0, 6)), sex=Sex.FEMALE
        )
        family = family_name(grandfather) if grandfather else None
        son_age = rng.randint(30, 48)
        son = new_person(rng, numbers, today, household, age=son_age, sex=Sex.MALE, family=family)
        wife = new_person(
            rng, numbers, today, household, age=max(22, son_age - rng.randint(0, 6)), sex=Sex.FEMALE
        )
        members += [m for m in (grandfather, grandmother, son, wife) if m is not None]
        members += _children(
            rng,
            numbers,
            today,
            household,
            father=son,
            mother=wife,
            count=rng.choice((1, 2, 2)),
            min_age=0,
            max_age=min(15, son_age - 22),
        )
    elif kind == "adults":
        for _ in range(rng.choice((1, 2))):
            members.append(
                new_person(
                    rng,
                    numbers,
                    today,
                    household,
                    age=rng.randint(19, 40),
                    sex=rng.choice((Sex.MALE, Sex.FEMALE)),
                )
            )
    else:
        age = rng.randint(62, 95)
        members.append(
            new_person(rng, numbers, today, household, age=age, sex=rng.choice((Sex.MALE, Sex.FEMALE)))
        )
        if rng.random() < 0.5:
            members.append(
                new_person(
                    rng, numbers, today, household, age=max(60, age - rng.randint(-3, 6)), sex=Sex.FEMALE
                )
            )
    return members


def _make_inconsistent(
    rng: random.Random, numbers: Numbers, citizens: list[Citizen], today: dt.date, *, keep: set[int]
) -> list[str]:
    """Break the sex/century digit or the year digits of a few IDs, as registration errors do."""
    candidates = [
        c for c in citizens if 25 <= age_of(c, today) <= 70 and c.birth_day is not None and id(c) not in keep
    ]
    chosen = rng.sample(candidates, min(INCONSISTENT_ID_COUNT, len(candidates)))
    changed: list[str] = []
    for index, citizen in enumerate(chosen):
        old = citizen.personal_id
        if index % 2 == 0:
            new = f"{old[:3]}{int(old[3]) ^ 1}{old[4:]}"  # the other sex, same century
        else:
            new = f"{old[:4]}{(citizen.birth_year + 1) % 100:02d}{old[6:]}"  # the year typed one off
        if numbers.replace_personal_id(old, new):
            citizen.personal_id = new
            changed.append(new)
    return changed


def _ensure_year_only_births(rng: random.Random, citizens: list[Citizen], today: dt.date) -> None:
    """Make sure a few elderly people are known only by their birth year, however small the demo."""
    missing = MIN_YEAR_ONLY_BIRTHS - sum(1 for c in citizens if c.birth_month is None)
    elderly = [c for c in citizens if c.birth_month is not None and age_of(c, today) >= 75]
    for citizen in rng.sample(elderly, max(0, min(missing, len(elderly)))):
        citizen.birth_month = citizen.birth_day = None


def build_residents(*, rng: random.Random, numbers: Numbers, today: dt.date, count: int) -> Population:
    """Create ``count`` people of the An Phú communes, household by household, minors with a representative."""
    citizens: list[Citizen] = []
    households: dict[int, Household] = {}  # by id() of the unsaved citizen: IDs may still change
    number = 0
    while len(citizens) < count:
        number += 1
        household = new_household(rng, number)
        for member in _household_members(rng, numbers, today, household)[: count - len(citizens)]:
            households[id(member)] = household
            citizens.append(member)
    _ensure_year_only_births(rng, citizens, today)
    # Parents keep a consistent ID: the demo's "parent" persona is chosen among them.
    parents = {id(c.representative) for c in citizens if c.representative is not None}
    inconsistent = _make_inconsistent(rng, numbers, citizens, today, keep=parents)
    household_of = {c.personal_id: households[id(c)] for c in citizens}
    Citizen.objects.bulk_create([c for c in citizens if c.representative is None], batch_size=BATCH_SIZE)
    Citizen.objects.bulk_create([c for c in citizens if c.representative is not None], batch_size=BATCH_SIZE)
    return Population(citizens, household_of, inconsistent)
