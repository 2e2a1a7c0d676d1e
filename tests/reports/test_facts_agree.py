"""The set-based summary refresh agrees with a straightforward Python computation of the same rules, on varied
random data: two counties with policies that change in the year, leave gaps and carry drafts and retired versions
beside them; people with overlapping and ending identities; settlements, bills and secondary cases inside and
outside the year, in every status. Runs on SQLite and on PostgreSQL."""

import datetime
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from applications.models import GRANTED_STATUSES, Bill, Case, PolicyVersion, YearlyBurden
from applications.policy.selectors import policy_in_force
from recipients.categories import CATEGORY_ORDER, most_favoured
from recipients.models import County, Identity, Person, Township
from recipients.selectors import identity_windows, valid_categories
from reports.facts import refresh_facts
from reports.models import AssistanceFact
from settlements.models import Settlement

YEAR = 2025
D = Decimal
VISIT_TYPES = ["门诊", "门诊慢特病", "住院"]
DIAGNOSES = ["", "C34.9", "c18.2", "N18.5", "n18", "I21.0", "J18.9", "K35", "Ｃ34", " C34"]
CODES = ["C", "C34", "N18", "i21", " ", "", "J18 ", "K"]


def day_between(rng, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randrange((end - start).days + 1))


def money(rng, high=5000) -> Decimal:
    return D(rng.randrange(0, high * 100)) / 100


def policies(rng, county, windows):
    """Active versions in the given non-overlapping windows, plus a draft and a retired one overlapping them."""
    for n, (start, end) in enumerate(windows):
        PolicyVersion.objects.create(
            county=county,
            name=f"{county.name}政策{n}",
            effective_from=start,
            effective_to=end,
            status=PolicyVersion.Status.ACTIVE,
            key_categories=rng.sample(list(CATEGORY_ORDER), rng.randrange(0, 6)),
            major_disease_codes=rng.sample(CODES, rng.randrange(0, 4)),
        )
    for status in (PolicyVersion.Status.DRAFT, PolicyVersion.Status.RETIRED):
        PolicyVersion.objects.create(
            county=county,
            name=f"{county.name}{status}",
            effective_from=datetime.date(2020, 1, 1),
            status=status,
            key_categories=list(CATEGORY_ORDER),
            major_disease_codes=["C", "I", "J", "K", "N"],
        )


def make_data(rng):
    a = County.objects.create(name="甲县", code="990001")
    b = County.objects.create(name="乙县", code="990002")
    towns = [Township.objects.create(county=a, name="甲一镇"), Township.objects.create(county=a, name="甲二镇")]
    towns.append(Township.objects.create(county=b, name="乙一镇"))
    switch = day_between(rng, datetime.date(2025, 2, 1), datetime.date(2025, 11, 30))
    policies(rng, a, [(datetime.date(2018, 1, 1), switch - datetime.timedelta(days=1)), (switch, None)])
    # County B: none in force before its policy starts or after it ends (not key; major only by the flag).
    b_start = day_between(rng, datetime.date(2024, 10, 1), datetime.date(2025, 5, 1))
    policies(rng, b, [(b_start, day_between(rng, b_start, datetime.date(2026, 3, 1)))])

    people = []
    for n in range(rng.randrange(15, 40)):
        people.append(
            Person.objects.create(
                id_number=f"99{n:016d}",
                name=f"测{n}",
                sex="M",
                birth_date=datetime.date(1960, 1, 1),
                township=rng.choice(towns),
            )
        )
    identities = []
    for p in people:
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            start = day_between(rng, datetime.date(2023, 1, 1), datetime.date(2025, 12, 31))
            end = None if rng.random() < 0.5 else day_between(rng, start, datetime.date(2026, 6, 30))
            identities.append(
                Identity(person=p, category=rng.choice(CATEGORY_ORDER), source="MZ", valid_from=start, valid_to=end)
            )
    Identity.objects.bulk_create(identities)

    settlements = []
    for n in range(rng.randrange(60, 200)):
        visit_type = rng.choice(VISIT_TYPES)
        day = day_between(rng, datetime.date(2024, 11, 1), datetime.date(2026, 2, 28))
        in_policy = money(rng)
        settlements.append(
            Settlement(
                number=f"S{n:05d}",
                id_number=rng.choice(people).id_number if rng.random() < 0.9 else f"88{n:016d}",
                name="x",
                hospital="医院",
                visit_type=visit_type,
                admitted_on=day - datetime.timedelta(days=3) if visit_type == "住院" else None,
                discharged_on=day if visit_type == "住院" else None,
                visit_on=None if visit_type == "住院" else day,
                service_date=day,
                settled_on=day,
                total=in_policy + money(rng, 500),
                in_policy=in_policy,
                basic=money(rng, 3000),
                critical=money(rng, 500) if rng.random() < 0.3 else D("0"),
                other=money(rng, 200) if rng.random() < 0.2 else D("0"),
                onestop=D("0") if rng.random() < 0.4 else money(rng, 2000) + D("0.01"),
                major_disease=rng.random() < 0.1,
                diagnosis=rng.choice(DIAGNOSES),
            )
        )
    Settlement.objects.bulk_create(settlements)

    statuses = list(Case.Status.values)
    bills, k = [], 0
    secondary_years = set()
    for n in range(rng.randrange(20, 60)):
        person = rng.choice(people)
        # Now and then filed in another township than the person's (the case's township counts).
        township = person.township if rng.random() < 0.85 else rng.choice(towns)
        source = rng.choice([Case.Source.WINDOW, Case.Source.LEAD, Case.Source.SECONDARY])
        year = rng.choice([2024, 2025, 2025, 2026])
        if source == Case.Source.SECONDARY and (person.pk, year) in secondary_years:
            source = Case.Source.WINDOW
        decided = None
        if rng.random() < 0.8:
            day = day_between(rng, datetime.date(2024, 12, 30), datetime.date(2026, 1, 2))
            if rng.random() < 0.5:  # early on the first of a month: the month differs in UTC
                day = day.replace(day=1)
            local = datetime.datetime.combine(day, datetime.time(rng.choice([0, 7, 8, 12, 23]), rng.choice([0, 30])))
            decided = timezone.make_aware(local, timezone.get_default_timezone())
        case = Case.objects.create(
            number=f"C{n:05d}",
            person=person,
            township=township,
            source=source,
            status=rng.choice(statuses + list(GRANTED_STATUSES) * 2),
            decided_at=decided,
            approved_amount=None if rng.random() < 0.1 else money(rng, 3000),
            year=year if source == Case.Source.SECONDARY else None,
        )
        if source == Case.Source.SECONDARY:
            secondary_years.add((person.pk, year))
            if rng.random() < 0.8:
                YearlyBurden.objects.create(
                    person=person,
                    township=township,
                    year=year,
                    burden=money(rng),
                    category=rng.choice(["", *CATEGORY_ORDER]),
                    computed_at=timezone.now(),
                )
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            k += 1
            visit_type = rng.choice(VISIT_TYPES)
            day = day_between(rng, datetime.date(2024, 11, 1), datetime.date(2026, 2, 28))
            in_policy = money(rng)
            linked = rng.choice(settlements).number if rng.random() < 0.4 else rng.choice(["", "", "NOPE"])
            bills.append(
                Bill(
                    case=case,
                    hospital="医院",
                    visit_type=visit_type,
                    admitted_on=day - datetime.timedelta(days=2) if visit_type == "住院" else None,
                    discharged_on=day if visit_type == "住院" else None,
                    visit_on=None if visit_type == "住院" else day,
                    invoice_number=f"F{k}",
                    settlement_number=linked,
                    total=in_policy + money(rng, 100),
                    in_policy=in_policy,
                    basic=money(rng, 3000),
                    critical=money(rng, 300) if rng.random() < 0.3 else D("0"),
                    other=D("0"),
                    granted=rng.choice([None, D("0"), money(rng, 2000), money(rng, 2000)]),
                    major_disease=rng.random() < 0.1,
                    diagnosis=rng.choice(DIAGNOSES),
                )
            )
    Bill.objects.bulk_create(bills)


def reference(year: int) -> dict:
    """The same rules, row by row in Python."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    people = {p.id_number: p for p in Person.objects.select_related("township")}
    towns = {t.pk: t for t in Township.objects.all()}
    windows = identity_windows()
    groups = defaultdict(lambda: [0, D("0"), D("0")])

    def category(person_id, day):
        return most_favoured(valid_categories(windows.get(person_id, ()), day))

    def version(township_id, day):
        return policy_in_force(county_id=towns[township_id].county_id, day=day)

    def is_key(v, cat):
        return v is not None and cat in v.key_categories

    def is_major(v, flag, diagnosis):
        if flag:
            return True
        prefixes = [str(c).strip().upper() for c in (v.major_disease_codes if v else []) if str(c).strip()]
        return any((diagnosis or "").upper().startswith(p) for p in prefixes)

    def self_pay(row):
        return max(D("0"), row.in_policy - row.basic - row.critical - row.other)

    def add(day, township_id, cat, benefit, channel, key, major, visits, assisted, pay):
        g = groups[(day.month, township_id, cat, benefit, channel, key, major)]
        g[0] += visits
        g[1] += assisted
        g[2] += pay

    granted = [str(s) for s in GRANTED_STATUSES]
    claimed = set(
        Bill.objects.filter(case__status__in=granted)
        .exclude(settlement_number="")
        .values_list("settlement_number", flat=True)
    )
    for s in Settlement.objects.filter(service_date__gte=start, service_date__lte=end):
        person = people.get(s.id_number)
        if person is None:
            continue
        day, cat = s.service_date, category(person.pk, s.service_date)
        v = version(person.township_id, day)
        if s.onestop > 0:
            add(day, person.township_id, cat, s.visit_type, "onestop", is_key(v, cat),
                is_major(v, s.major_disease, s.diagnosis), 1, s.onestop, self_pay(s))  # fmt: skip
        elif s.visit_type == "住院" and s.number not in claimed and cat:
            add(day, person.township_id, cat, "住院", "none", is_key(v, cat), False, 0, D("0"), self_pay(s))

    for b in Bill.objects.select_related("case"):
        c = b.case
        day = b.discharged_on if b.visit_type == "住院" else b.visit_on
        if c.status not in granted or c.source == "secondary" or not b.granted or not (start <= day <= end):
            continue
        cat = category(c.person_id, day)
        v = version(c.township_id, day)
        add(day, c.township_id, cat, b.visit_type, "manual", is_key(v, cat),
            is_major(v, b.major_disease, b.diagnosis), 1, b.granted, self_pay(b))  # fmt: skip

    burdens = {(y.person_id, y.year): y.category for y in YearlyBurden.objects.all()}
    for c in Case.objects.filter(source="secondary", status__in=granted, year=year):
        day = timezone.localtime(c.decided_at).date() if c.decided_at else end
        day = min(max(day, start), end)
        cat = burdens.get((c.person_id, year), "")
        v = version(c.township_id, day)
        add(
            day,
            c.township_id,
            cat,
            "二次救助",
            "secondary",
            is_key(v, cat),
            False,
            1,
            c.approved_amount or D("0"),
            D("0"),
        )
    return {k: tuple(v) for k, v in groups.items()}


def stored(year: int) -> dict:
    rows = AssistanceFact.objects.filter(year=year)
    return {
        (f.month, f.township_id, f.category, f.benefit, f.channel, f.key, f.major): (f.visits, f.assisted, f.self_pay)
        for f in rows
    }


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(25))
def test_sql_refresh_agrees_with_the_rules_in_python(seed):
    rng = random.Random(seed)
    make_data(rng)
    for year in (YEAR, YEAR + 1):
        rows = refresh_facts(year=year)
        expected = reference(year)
        assert stored(year) == expected
        assert rows == len(expected)
    assert AssistanceFact.objects.filter(year=YEAR).exists()
