"""The 监测名单 (DATA-FORMATS §10) for 民政 and 乡村振兴, and the record of each push."""

from django.db import transaction

from audit.services import audit_record
from lib.spreadsheet import list_workbook
from recipients.idnumber import mask_id_number

from .models import Listing, Push

HEADERS = [
    "身份证号",
    "姓名",
    "乡镇（街道）",
    "当前救助身份",
    "近12个月个人负担",
    "本年度个人负担",
    "预警阈值",
    "首次预警月份",
    "本次是否新增",
]


def listing_workbook(listings, *, masked: bool) -> bytes:
    """One row per line of the month's list; ID numbers masked for a user without the unmask permission."""

    def rows():
        for line in listings:
            watch = line.watch
            yield [
                mask_id_number(watch.id_number) if masked else watch.id_number,
                watch.name,
                watch.township.name if watch.township_id else "（名册外，未分派）",
                line.categories or "无",
                line.rolling,
                line.year_to_date,
                line.threshold,
                f"{watch.first_warned:%Y-%m}",
                "是" if line.reason == Listing.Reason.NEW else "否",
            ]

    return list_workbook("监测名单", HEADERS, rows(), text_columns=(0,), money_columns=(4, 5, 6))


@transaction.atomic
def listing_push(
    *, listings, month, department: str, user=None, county=None, new_only=False, masked=False, file_name=""
) -> tuple[Push, bytes]:
    """Write the list and record the push (who, when, how many, how many new) with its audit row."""
    rows = listings.count()
    new_rows = listings.filter(reason=Listing.Reason.NEW).count()
    content = listing_workbook(listings.iterator(chunk_size=2000), masked=masked)
    push = Push.objects.create(
        month=month,
        department=department,
        county=county,
        new_only=new_only,
        rows=rows,
        new_rows=new_rows,
        masked=masked,
        pushed_by=user if getattr(user, "is_authenticated", False) else None,
        file_name=file_name[:200],
    )
    audit_record(
        actor=user,
        action="monitoring.push",
        obj=push,
        after={"month": f"{month:%Y-%m}", "rows": rows, "new": new_rows, "masked": masked, "new_only": new_only},
        comment="" if masked else "含完整身份证号",
    )
    return push, content
