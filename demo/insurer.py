"""The demo county's insurer (茂名 mode, DOMAIN §12.5): terms on its policy, the first half-year's statement
reviewed and paid, the second's waiting for the second finance user's review."""

import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from insurers.services import payment_record, statement_build, statement_request, statement_review, terms_save

INSURER = "中国人寿保险股份有限公司茂名分公司（演示）"


def insurer_terms(version, year: int = 2026) -> None:
    """Name the insurer on a draft policy version, before it is activated."""
    terms_save(
        version=version,
        user=None,
        data={
            "enabled": True,
            "insurer_name": INSURER,
            "contract_number": f"GZ-YLJZ-{year}-01",
            "contract_start": datetime.date(year, 1, 1),
            "contract_end": datetime.date(year, 12, 31),
            "fee_rate": Decimal("0.008"),
            "fee_cap": Decimal("100000"),
        },
    )


def insurer_statements(county, year: int = 2026) -> str:
    finance, checker = User.objects.get(username="finance"), User.objects.get(username="finance2")
    today = timezone.localdate()
    if today < datetime.date(year, 7, 21):  # the demo's year has not reached its first instalment yet
        return f"  承办保险机构：{INSURER}"
    first = statement_request(user=finance, county=county, kind="half", year=year, half=1, queue=False)
    first = statement_review(statement=statement_build(statement_id=first.pk), user=checker)
    if first.amount_due > 0:
        payment_record(
            statement=first,
            user=finance,
            amount=first.amount_due,
            paid_on=datetime.date(year, 7, 20),
            reference=f"高财社〔{year}〕58号",
        )
    second = statement_request(user=finance, county=county, kind="half", year=year, half=2, queue=False)
    second = statement_build(statement_id=second.pk)
    return f"  承办保险机构：{INSURER}；结算单 {first.number}（已结清），{second.number}（待复核）"
