"""The person-year ledger (applications.policy.ledger): never past the cap."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from applications.models import LedgerEntry
from applications.policy.ledger import CapExceeded, ledger_post
from tests.factories import PersonFactory

D = Decimal


def test_ledger_refuses_to_pass_the_cap(db):
    person = PersonFactory()
    ledger_post(person_id=person.pk, year=2025, pool="住院", granted=D("50000"), cap=D("60000"))
    with pytest.raises(CapExceeded):
        ledger_post(person_id=person.pk, year=2025, pool="住院", granted=D("10000.01"), cap=D("60000"))
    entry = ledger_post(person_id=person.pk, year=2025, pool="住院", granted=D("10000"), cap=D("60000"))
    assert entry.granted == D("60000")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_ledger_posts_never_pass_the_cap():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    person = PersonFactory()
    outcomes = []

    def approve():
        try:
            with transaction.atomic():
                ledger_post(person_id=person.pk, year=2025, pool="住院", granted=D("7000"), cap=D("60000"))
            outcomes.append("ok")
        except CapExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entry = LedgerEntry.objects.get(person=person)
    assert entry.granted == D("56000")  # 8 × 7,000; a ninth would pass 60,000
    assert outcomes.count("ok") == 8 and outcomes.count("refused") == 8
