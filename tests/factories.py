import datetime
import itertools
import random
from decimal import Decimal

import factory

from accounts.models import User
from accounts.roles import PREFECTURE_ROLES, Role
from applications.cases.services import case_accept, case_add_bill, case_create, case_review, case_submit
from applications.models import Case
from recipients import demo
from recipients.models import County, Identity, Person, Township, Village
from settlements.models import Settlement

_rng = random.Random(7)


def valid_id_number(birth=datetime.date(1980, 5, 17), female=None) -> str:
    return demo.make_id_number(_rng, "440981", birth, female=female)


class CountyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = County
        django_get_or_create = ("code",)

    name = "高州市"
    code = "440981"


class TownshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Township
        django_get_or_create = ("county", "name")

    county = factory.SubFactory(CountyFactory)
    name = factory.Sequence(lambda n: f"第{n}镇")


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village
        django_get_or_create = ("township", "name")

    township = factory.SubFactory(TownshipFactory)
    name = factory.Sequence(lambda n: f"第{n}村")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.REVIEWER
    # A county role works in the default county (the townships' one) unless told otherwise; a clerk's county is
    # their township's (User.save); the prefecture roles have none.
    county = factory.LazyAttribute(
        lambda o: (
            None
            if o.role in PREFECTURE_ROLES
            else (o.township.county if getattr(o, "township", None) else CountyFactory())
        )
    )
    # Unusable by default: hashing with Argon2 in every fixture would slow the suite; login tests set one.
    password = factory.django.Password(None)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    # A birth date per person: with one fixed date only 1,000 distinct IDs exist, and tests that create
    # dozens of people would draw the same one now and then.
    id_number = factory.Sequence(
        lambda n: valid_id_number(datetime.date(1950, 1, 1) + datetime.timedelta(days=n % 20000))
    )
    name = factory.Sequence(lambda n: f"张{n}")
    sex = "M"
    birth_date = factory.LazyAttribute(
        lambda o: datetime.date(int(o.id_number[6:10]), int(o.id_number[10:12]), int(o.id_number[12:14]))
    )
    township = factory.SubFactory(TownshipFactory)
    phone = "13812345678"
    bank_name = "中国农业银行高州支行"
    bank_account = "6228480000123456789"


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    person = factory.SubFactory(PersonFactory)
    category = "DB"
    source = "MZ"
    valid_from = datetime.date(2023, 1, 1)
    valid_to = None


_settlement_numbers = itertools.count(1)


def settle(person_or_id, *, day=datetime.date(2025, 6, 10), onestop=Decimal("0"), visit_type="住院", **money):
    """A stay like Taishan's: out of area, E = 38,000 − 20,000 − 6,000 = 12,000."""
    values = {
        "total": Decimal("42000"),
        "in_policy": Decimal("38000"),
        "basic": Decimal("20000"),
        "critical": Decimal("6000"),
    }
    values.update(money)
    id_number = person_or_id if isinstance(person_or_id, str) else person_or_id.id_number
    inpatient = visit_type == "住院"
    return Settlement.objects.create(
        number=f"JS{next(_settlement_numbers):06d}",
        id_number=id_number,
        name="测试",
        hospital="广州医科大学附属第一医院",
        visit_type=visit_type,
        admitted_on=day - datetime.timedelta(days=9) if inpatient else None,
        discharged_on=day if inpatient else None,
        visit_on=None if inpatient else day,
        service_date=day,
        settled_on=day,
        onestop=onestop,
        out_of_area=True,
        **values,
    )


class CaseFactory(factory.django.DjangoModelFactory):
    """A case written directly (no workflow): for tests of what comes after the decision, such as payouts."""

    class Meta:
        model = Case

    number = factory.Sequence(lambda n: f"T{n:08d}")
    person = factory.SubFactory(PersonFactory)
    township = factory.LazyAttribute(lambda o: o.person.township)
    payee_name = factory.LazyAttribute(lambda o: o.person.name)
    payee_bank = "中国农业银行高州支行"
    payee_account = "6228480000123456789"


class ApprovedCaseFactory(CaseFactory):
    status = Case.Status.APPROVED
    approved_amount = Decimal("5600.00")
    decided_at = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)


def bill_on(day: datetime.date, *, visit_type="住院", invoice: str, hospital="高州市人民医院", **money) -> dict:
    """The fields of case_add_bill for a bill whose service date is `day` (a 5-day stay for an inpatient bill)."""
    dates = (
        {"admitted_on": day - datetime.timedelta(days=5), "discharged_on": day}
        if visit_type == "住院"
        else {"visit_on": day}
    )
    return {"hospital": hospital, "visit_type": visit_type, "invoice_number": invoice, **dates, **money}


def case_in_approval(person, *, clerk, reviewer, bills: list[dict]):
    """A window case for the person through the services: bills added, accepted, submitted, reviewed."""
    case = case_create(person=person, user=clerk)
    for bill in bills:
        case_add_bill(case=case, user=clerk, **bill)
    case = case_submit(case=case_accept(case=case, user=clerk), user=clerk)
    return case_review(case=case, user=reviewer)


def fund_county(county, amount=Decimal("100000000"), years=range(2020, 2031)):
    """Funds received by a county for each of the years (the gate before payouts reads them)."""
    from reports.models import FundEntry

    return FundEntry.objects.bulk_create(
        [FundEntry(county=county, year=year, source="grant", amount=Decimal(amount)) for year in years]
    )
