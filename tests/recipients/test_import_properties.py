"""Property tests: whatever two rosters are imported one after the other, the registry ends up as
the rules in DATA-FORMATS §1 say, and the counts say what happened. Runs on SQLite (Python path)
and on PostgreSQL (COPY + SQL path) alike."""

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recipients.demo import to_csv
from recipients.models import Identity, Person, RosterImport
from tests.factories import valid_id_number
from tests.recipients.test_roster_import import run_import

PEOPLE = [valid_id_number(datetime.date(1950 + i, 1 + i, 1 + i)) for i in range(4)]
NAMES = ["甲", "乙", "丙", "丁"]
CATEGORIES = ["DB", "TK", "JD"]
STARTS = [datetime.date(2021, 1, 1), datetime.date(2022, 7, 1), datetime.date(2025, 3, 1)]
ENDS = [None, datetime.date(2025, 6, 30), datetime.date(2026, 1, 31)]
SOURCES = {"DB": "民政", "TK": "民政", "JD": "乡村振兴"}
SOURCE_CODE = {"民政": "MZ", "乡村振兴": "XCZX"}
SNAPSHOT = datetime.date(2025, 12, 1)

identity = st.tuples(
    st.integers(0, 3), st.sampled_from(CATEGORIES), st.sampled_from(STARTS), st.sampled_from(ENDS)
).filter(lambda t: t[3] is None or t[3] >= t[2])
roster = st.lists(identity, max_size=8, unique_by=lambda t: (t[0], t[1], t[2]))


def csv_of(rows):
    return to_csv(
        [
            [PEOPLE[p], NAMES[p], c, f.isoformat(), t.isoformat() if t else "", "石鼓镇", "", "", "", "", SOURCES[c]]
            for p, c, f, t in rows
        ]
    )


def state():
    return {
        (i.person.id_number, i.category, i.valid_from): (i.valid_to, i.source)
        for i in Identity.objects.select_related("person")
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=roster, second=roster, snapshot=st.booleans())
def test_two_imports_follow_the_rules(village, reviewer, first, second, snapshot):
    Identity.objects.all().delete()
    Person.objects.all().delete()
    RosterImport.objects.all().delete()

    if first:
        assert run_import(reviewer, csv_of(first)).status == RosterImport.Status.DONE
    before = state()
    imp = run_import(reviewer, csv_of(second), snapshot_date=SNAPSHOT if snapshot else None) if second else None
    if imp is None:
        return
    assert imp.status == RosterImport.Status.DONE

    expected = dict(before)
    added = changed = unchanged = 0
    in_second = set()
    for p, c, f, t in second:
        key = (PEOPLE[p], c, f)
        in_second.add(key)
        new = (t, SOURCE_CODE[SOURCES[c]])
        if key not in before:
            added += 1
        elif before[key] != new:
            changed += 1
        else:
            unchanged += 1
        expected[key] = new
    ended = 0
    if snapshot:
        # the import's default source is 民政 (MZ): its open identities absent from the file end
        for key, (valid_to, source) in before.items():
            if key in in_second or source != "MZ" or key[2] >= SNAPSHOT:
                continue
            if valid_to is None or valid_to >= SNAPSHOT:
                expected[key] = (SNAPSHOT - datetime.timedelta(days=1), source)
                ended += 1

    assert state() == expected
    assert (imp.rows_added, imp.rows_changed, imp.rows_unchanged, imp.rows_ended) == (added, changed, unchanged, ended)
    # and the same file again changes nothing
    again = run_import(reviewer, csv_of(second), snapshot_date=SNAPSHOT if snapshot else None)
    assert (again.rows_added, again.rows_changed, again.rows_ended, again.rows_unchanged) == (0, 0, 0, len(second))
    assert state() == expected
