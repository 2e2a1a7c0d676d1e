"""A county at full size, generated in PostgreSQL (`seed_county`): what a county bureau holds after a year of
running the portal — 100,000 recipients with their identities, 1,000,000 settlements, 80,000 cases in every state
of the workflow with their bills, the year's leads and yearly burdens, the payout batches, the jobs and a year of
audit trail — for measuring the pages at the size they are used at (`bench_pages`).

Each table is filled by one set-based statement (demo/county_sql.py) from generate_series and the rows already
written; nothing goes through the ORM row by row. The logins are the demo's (seed_demo), one per role, in the
county; a neighbouring county a tenth of the size is built beside it, so that every list is scoped for real."""

import datetime
import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from applications.policy.services import policy_load_preset
from recipients import demo as rdemo
from recipients.models import County, Township, Village
from reports.facts import refresh_facts
from reports.models import FundEntry
from settlements import demo as sdemo

from . import county_sql as sql
from .management.commands.seed_demo import COUNTY, DEMO_USERS, DEMO_USERS_EXTRA, TOWNSHIPS
from .second_county import CITY_USERS, SECOND_COUNTY, SECOND_TOWNSHIPS, SECOND_USERS, make_users

HOSPITALS = [
    *sdemo.LOCAL_HOSPITALS,
    *(f"{name}卫生院" for name in TOWNSHIPS if name.endswith("镇") and name != "石鼓镇"),
    "高州市人民医院分院",
    "高州市骨科医院",
]
DIAGNOSES = [code for code, _ in sdemo.DIAGNOSES]
MARKER = "seed_county_built"


@dataclass(frozen=True)
class Size:
    people: int = 100_000
    settlements: int = 1_000_000
    cases: int = 80_000
    audit: int = 500_000
    # Leads of the year for this many people in a thousand (besides those converted into cases).
    lead_per_mille: int = 300

    def tenth(self) -> "Size":
        return Size(*(max(1, n // 10) for n in (self.people, self.settlements, self.cases, self.audit)), 300)


def built_size() -> dict | None:
    """What the database holds, when seed_county built it; None otherwise."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [MARKER])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(f"SELECT people, settlements, cases, seed, built_at FROM {MARKER}")
        row = cursor.fetchone()
    return dict(zip(["people", "settlements", "cases", "seed", "built_at"], row, strict=True)) if row else None


def build(*, size: Size, seed: int, out=None) -> dict:
    """Fill an empty, migrated PostgreSQL database: the demo's county at `size`, its neighbour at a tenth, the
    prefecture's logins. Returns the seconds each step took."""
    say = out or (lambda text: None)
    steps: dict[str, float] = {}
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")  # one order of random() calls
            cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
            cursor.execute(sql.CHECK_DIGIT_FUNCTION)
        _county(COUNTY, TOWNSHIPS, DEMO_USERS, size, now=now, today=today, steps=steps, say=say)
        _county(SECOND_COUNTY, SECOND_TOWNSHIPS, SECOND_USERS, size.tenth(), now=now, today=today, steps={}, say=say)
        make_users(CITY_USERS, None)
        t0 = time.perf_counter()
        for year in sorted({today.year - 1, today.year}):
            refresh_facts(year=year)
        steps["dashboard summary"] = time.perf_counter() - t0
        say(f"  dashboard summary: {steps['dashboard summary']:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE {MARKER} (people bigint, settlements bigint, cases bigint, seed bigint, built_at "
                "timestamptz)"
            )
            cursor.execute(
                f"INSERT INTO {MARKER} VALUES (%s, %s, %s, %s, %s)",
                [size.people, size.settlements, size.cases, seed, now],
            )
    t0 = time.perf_counter()
    with connection.cursor() as cursor:  # outside the transaction: VACUUM cannot run inside one
        cursor.execute("VACUUM ANALYZE")
    steps["vacuum analyze"] = time.perf_counter() - t0
    say(f"  VACUUM ANALYZE: {steps['vacuum analyze']:.1f} s")
    return steps


def _county(place, townships, users, size: Size, *, now, today, steps, say) -> County:
    name, code = place
    county = County.objects.create(name=name, code=code)
    for n, (township, villages) in enumerate(townships.items(), start=1):
        town = Township.objects.create(county=county, name=township, code=f"{code}{n:03d}")
        Village.objects.bulk_create(Village(township=town, name=v) for v in villages)
    policy_load_preset(name="maoming-2018", county=county)
    make_users(users, county)
    if code == COUNTY[1]:
        _extra_finance(county)
    logins = {u.role: u.pk for u in User.objects.filter(county=county).order_by("-pk")}  # the first of each role
    checker = User.objects.filter(county=county, role=Role.FINANCE).exclude(pk=logins[Role.FINANCE]).first()
    clerk = User.objects.filter(county=county, role=Role.CLERK).order_by("pk").first()
    params = {
        "county": county.pk,
        "region": code,
        "outsider_region": f"{code[:4]}{(int(code[4:]) + 40) % 100:02d}",
        "people": size.people,
        "outsiders": max(1, size.people // 10),
        "settlements": size.settlements,
        "cases": size.cases,
        "audit": size.audit,
        "lead_per_mille": size.lead_per_mille,
        "year": today.year,
        "now": now,
        "today": today,
        "first_day": today - datetime.timedelta(days=366),
        "runner": logins[Role.REVIEWER],
        "reviewer": logins[Role.REVIEWER],
        "approver": logins[Role.APPROVER],
        "clerk": clerk.pk,
        "finance": logins[Role.FINANCE],
        "finance2": (checker or clerk).pk,
        "users": list(logins.values()),
        "surnames": rdemo.SURNAMES,
        "given": rdemo.GIVEN,
        "banks": rdemo.BANKS,
        "bank_prefixes": [rdemo.BANK_PREFIX[b] for b in rdemo.BANKS],
        "hospitals": HOSPITALS,
        "remote_hospitals": sdemo.REMOTE_HOSPITALS,
        "diagnoses": DIAGNOSES,
    }
    for step, statement in (
        ("lookups", sql.LOOKUPS),
        ("people", sql.PEOPLE),
        ("lookups of people", sql.PICK),
        ("identities", sql.IDENTITIES),
        ("imports", sql.IMPORTS),
        ("settlements", sql.SETTLEMENTS),
        ("cases", sql.CASES),
        ("bills", sql.BILLS),
        ("leads", sql.LEADS),
        ("yearly burdens", sql.BURDENS),
        ("payout batches", sql.PAYOUTS),
        ("jobs", sql.JOBS),
        ("audit trail", sql.AUDIT),
    ):
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            if step in ("people", "settlements", "cases", "yearly burdens", "audit trail"):
                cursor.execute("ANALYZE")  # the next statements join what was just written
        steps[step] = time.perf_counter() - t0
        say(f"  {name} {step}: {steps[step]:.1f} s")
    share = size.people / 100_000
    for source, amount in ((FundEntry.Source.GRANT, 60_000_000), (FundEntry.Source.BUDGET, 20_000_000)):
        FundEntry.objects.create(county=county, year=today.year, source=source, amount=round(amount * share))
    return county


def _extra_finance(county) -> None:
    """The second finance user of the demo, who reviews the batches the first one makes."""
    checker = User(username="finance2", full_name="何美玲", role=Role.FINANCE, county=county)
    checker.set_password(DEMO_USERS_EXTRA["finance2"])
    checker.save()
