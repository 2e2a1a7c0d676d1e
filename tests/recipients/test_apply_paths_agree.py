"""On PostgreSQL both write paths of the roster import exist: for random registries and files,
the set-based SQL path and the Python path must count and write exactly the same."""

import datetime
import random

import pytest
from django.db import connection, transaction

from recipients import roster_apply
from recipients.idnumber import parse_id_number
from recipients.models import Identity, Person
from recipients.roster import RosterRow
from tests.factories import IdentityFactory, PersonFactory, TownshipFactory, VillageFactory, valid_id_number

pytestmark = pytest.mark.django_db

D = datetime.date


def state():
    ps = sorted(
        (p.id_number, p.name, p.township_id, p.village_id, p.phone, p.bank_name, p.bank_account)
        for p in Person.objects.all()
    )
    ids = sorted(
        (
            i.person.id_number,
            i.category,
            i.source,
            i.valid_from,
            i.valid_to,
            i.created_by_import_id,
            i.updated_by_import_id,
        )
        for i in Identity.objects.select_related("person")
    )
    return ps, ids


def run(fn, rows, **kw):
    with transaction.atomic():
        sid = transaction.savepoint()
        c = fn(rows, **kw)
        st = state()
        transaction.savepoint_rollback(sid)
    return c, st


@pytest.mark.postgres
@pytest.mark.parametrize("seed", range(150))
def test_sql_and_python_paths_agree(seed):
    if connection.vendor != "postgresql":
        pytest.skip("compares the PostgreSQL path with the Python path: needs PostgreSQL")
    rng = random.Random(seed)
    ts = [TownshipFactory(name=f"T{k}") for k in range(2)]
    vs = {t.id: [VillageFactory(township=t, name=f"V{t.id}{j}") for j in range(2)] for t in ts}
    ids = [valid_id_number(D(1950 + k, 1, 1 + k)) for k in range(8)]
    cats = ["DB", "TK", "JD"]
    froms = [D(2022, 1, 1), D(2023, 1, 1), D(2024, 6, 1)]
    # registry
    for n in ids[:5]:
        t = rng.choice(ts)
        p = PersonFactory(
            id_number=n,
            township=t,
            village=rng.choice(vs[t.id] + [None]),
            phone=rng.choice(["", "13800000000"]),
            bank_name=rng.choice(["", "农行"]),
            bank_account=rng.choice(["", "622848000011"]),
            name=rng.choice(["甲", "乙"]),
        )
        for c in rng.sample(cats, rng.randint(0, 3)):
            IdentityFactory(
                person=p,
                category=c,
                source=rng.choice(["MZ", "CL"]),
                valid_from=rng.choice(froms),
                valid_to=rng.choice([None, D(2024, 12, 31), D(2025, 3, 1)]),
            )
    scoped = rng.random() < 0.3
    township_id = ts[0].id if scoped else None
    rows = []
    seen = set()
    rowno = 2
    for n in rng.sample(ids, rng.randint(1, 8)):
        if scoped:
            p = Person.objects.filter(id_number=n).first()
            if p and p.township_id != township_id:
                continue
        info = parse_id_number(n)
        t = ts[0] if scoped else rng.choice(ts)
        pf = dict(
            name=rng.choice(["甲", "乙", "甲\\N", "乙\t丙", "丙\n丁"]),  # (COPY's escapes, when a cell needs them)
            township_id=t.id,
            village_id=rng.choice([None] + [v.id for v in vs[t.id]]),
            phone=rng.choice(["", "13900000000"]),
            bank_name=rng.choice(["", "建行"]),
            bank_account=rng.choice(["", "622848000011"]),
        )
        for c in rng.sample(cats, rng.randint(1, 2)):
            vf = rng.choice(froms)
            if (n, c, vf) in seen:
                continue
            seen.add((n, c, vf))
            rows.append(
                RosterRow(
                    row_no=rowno,
                    id_number=n,
                    sex=info.sex,
                    birth_date=info.birth_date,
                    category=c,
                    source=rng.choice(["MZ", "CL"]),
                    valid_from=vf,
                    valid_to=rng.choice([None, D(2024, 12, 31)]),
                    **pf,
                )
            )
            rowno += 1
    kw = dict(
        import_id=None,
        snapshot_date=rng.choice([None, D(2025, 1, 1), D(2024, 6, 1)]),
        snapshot_source="MZ",
        township_id=township_id,
    )
    a = run(roster_apply._apply_python, rows, **kw)
    b = run(roster_apply._apply_postgresql, rows, **kw)
    assert a[0] == b[0], (kw, rows)
    assert a[1] == b[1]
