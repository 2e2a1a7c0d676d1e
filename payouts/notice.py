"""The 公示名单 of a payout batch: a notice to post (A4 portrait), not a data file.

Title with the county, what is being made public and for which period, the 公示期 (PUBLIC_NOTICE_DAYS from the
notice date), the 监督电话 (PUBLIC_NOTICE_PHONE), the bordered list — names and IDs masked, township, the kind of
assistance in the words of the policy (住院 / 门诊医疗救助, 二次救助; how a case reached us, e.g. from a 主动救助
lead, is internal and never shown), amount — a total row, then the issuing office and the date. Optionally one
sheet per township, for each township's noticeboard.
"""

import datetime
import math
import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, Exists, ExpressionWrapper, F, Max, Min, OuterRef, Sum
from django.utils import timezone

from applications.models import Bill, Case
from recipients.idnumber import mask_id_number
from settlements.visits import VisitType

from .models import PayoutBatch
from .workbook import (
    A4_HEIGHT,
    LINE_HEIGHT,
    PAGE_NUMBERS,
    TextFormats,
    a4,
    batch_workbook,
    cn_date,
    header_text,
    lines_needed,
    page_starts,
)

TITLE = "医疗救助待遇发放公示"
COLUMNS = [("序号", 7), ("乡镇（街道）", 16), ("姓名", 10), ("身份证号", 22), ("救助类型", 20), ("救助金额（元）", 16)]
WIDTH = sum(width for _, width in COLUMNS)
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")
# Page geometry, in points. In Excel the columns (about 500 pt) fit A4 portrait's 523 pt between 0.5-inch margins at
# 100 %, so its rows print exactly as tall as set and the page breaks below are where the pages end. A program that
# measures the columns in a wider font scales the page down to fit: its pages hold more rows than these breaks give
# them, so they end a little short, never in a place of their own.
MARGINS = (0.5, 0.5, 0.7, 0.7)
PAGE_HEIGHT = A4_HEIGHT - (MARGINS[2] + MARGINS[3]) * 72
ROW, HEAD, TOTAL, SIGNED, BLANK = (
    LINE_HEIGHT * 1.3,
    LINE_HEIGHT * 1.6,
    LINE_HEIGHT * 1.4,
    LINE_HEIGHT * 1.6,
    LINE_HEIGHT,
)


@dataclass(frozen=True)
class NoticeTerms:
    """When and by whom the notice is posted."""

    county: str
    notice_date: datetime.date
    days: int
    phone: str
    issuer: str

    @property
    def last_day(self) -> datetime.date:
        return self.notice_date + datetime.timedelta(days=self.days - 1)


def assistance_kind(source: str, inpatient: bool, outpatient: bool) -> str:
    """The benefit paid, as the policy names it: 二次救助, or 住院 / 门诊 医疗救助 by the bills that were granted."""
    if source == Case.Source.SECONDARY:
        return "二次救助"
    if inpatient and outpatient:
        return "住院、门诊医疗救助"
    if inpatient:
        return "住院医疗救助"
    if outpatient:
        return "门诊医疗救助"
    return "医疗救助"


def mask_name(name: str) -> str:
    """张三 → 张*, 王秀英 → 王*英, 欧阳小明 → 欧**明: the first and, from three characters, the last character; at
    most two stars, so that a long name neither shows its length nor overflows its cell."""
    if len(name) <= 2:
        return name[:1] + "*" * (len(name) - 1)
    return name[0] + "*" * min(len(name) - 2, 2) + name[-1]


def notice_terms(batch: PayoutBatch, notice_date: datetime.date, days: int | None = None) -> NoticeTerms:
    counties = list(
        batch.lines.filter(live=True).values_list("township__county__name", flat=True).distinct().order_by()
    )
    county = "、".join(sorted(counties))
    return NoticeTerms(
        county=county,
        notice_date=notice_date,
        days=days or settings.PUBLIC_NOTICE_DAYS,
        phone=settings.PUBLIC_NOTICE_PHONE.strip(),
        issuer=settings.PUBLIC_NOTICE_ISSUER.strip() or f"{county}医疗保障局",
    )


# The assistance granted, which the notice makes public: what a line pays plus what it kept back against a
# recovery (抵扣 settles a debt of the payee; it does not make the assistance smaller).
GRANTED = ExpressionWrapper(F("amount") + F("offset"), output_field=DecimalField(max_digits=14, decimal_places=2))


def public_notice(batch: PayoutBatch, *, notice_date: datetime.date, by_township: bool = False) -> bytes:
    """The notice of the batch's live lines; the same batch and notice date give the same bytes."""
    terms = notice_terms(batch, notice_date)
    live = batch.lines.filter(live=True)
    period = _period(batch, live)
    granted = Bill.objects.filter(case=OuterRef("case_id"), granted__gt=0)
    lines = (
        live.annotate(
            inpatient=Exists(granted.filter(visit_type=VisitType.INPATIENT)),
            outpatient=Exists(granted.exclude(visit_type=VisitType.INPATIENT)),
            granted=GRANTED,
        )
        .order_by("township__name", "reference")
        .values_list(
            "township__name", "case__person__name", "id_number", "source", "inpatient", "outpatient", "granted"
        )
    )
    groups = {
        name: (n, total)
        for name, n, total in live.values_list("township__name").annotate(n=Count("pk"), total=Sum(GRANTED))
    }
    stamp = datetime.datetime.combine(notice_date, datetime.time())
    with batch_workbook(batch, f"{terms.county}{TITLE} {batch.number}", stamp) as (workbook, result):
        page = _Page(workbook, batch, terms, period)
        if not by_township:
            page.start(
                "公示名单", "", sum(n for n, _ in groups.values()), sum((t for _, t in groups.values()), Decimal("0"))
            )
        for township, name, id_number, source, inpatient, outpatient, amount in lines.iterator(chunk_size=5000):
            if by_township and township != page.township:
                if page.sheet is not None:
                    page.finish()
                page.start(township, township, *groups[township])
            page.line(
                township,
                mask_name(name),
                mask_id_number(id_number),
                assistance_kind(source, inpatient, outpatient),
                amount,
            )
        if page.sheet is None:  # a batch with no live line left
            page.start("公示名单", "", 0, Decimal("0"))
        page.finish()
        return result()


def _period(batch: PayoutBatch, live) -> str:
    """The approval dates the batch covers: its filter if it had both ends, else the first and last decision."""
    start, end = batch.filters.get("approved_from"), batch.filters.get("approved_to")
    if start and end:
        first, last = datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
    else:
        dates = live.aggregate(first=Min("case__decided_at"), last=Max("case__decided_at"))
        if dates["first"] is None:
            return ""
        first, last = timezone.localdate(dates["first"]), timezone.localdate(dates["last"])
    return cn_date(first) if first == last else f"{cn_date(first)}至{cn_date(last)}"


class _Page:
    """One notice sheet as it is written: the heading, the lines, then the total row, the office and the date."""

    def __init__(self, workbook, batch: PayoutBatch, terms: NoticeTerms, period: str):
        self.workbook, self.batch, self.terms, self.period = workbook, batch, terms, period
        cell = {"border": 1, "valign": "vcenter"}
        add = workbook.add_format
        self.title = TextFormats(workbook, bold=True, font_size=18, align="center", valign="vcenter")
        self.paragraph = TextFormats(workbook, text_wrap=True, valign="vcenter")
        self.head = add({**cell, "bold": True, "align": "center", "bg_color": "#F2F2F2", "text_wrap": True})
        self.serial = add({**cell, "align": "center"})
        self.centred = TextFormats(workbook, **cell, align="center")
        self.money = add({**cell, "num_format": "#,##0.00", "align": "right", "indent": 1})
        self.total_label = add({**cell, "bold": True, "align": "center"})
        self.total_money = add({**cell, "bold": True, "num_format": "#,##0.00", "align": "right", "indent": 1})
        self.signed = TextFormats(workbook, align="right", valign="vcenter")
        self.sheet, self.township, self.used = None, None, set()

    def start(self, name: str, township: str, count: int, total: Decimal) -> None:
        sheet = self.sheet = self.workbook.add_worksheet(self._sheet_name(name))
        self.township, self.count, self.total = township, 0, Decimal("0")
        for col, (_, width) in enumerate(COLUMNS):
            sheet.set_column(col, col, width)
        last = len(COLUMNS) - 1
        t, b = self.terms, self.batch
        sheet.set_row(0, 40)
        self.title.merge(sheet, 0, 0, last, f"{t.county}{township}{TITLE}")
        what = f"{self.period}审批的" if self.period else "本批"
        intro = (
            f"根据医疗救助有关政策规定，现将{what}医疗救助待遇发放情况予以公示（批次号 {b.number}，"
            f"共 {count:,} 人次，合计 {total:,.2f} 元）。为保护个人隐私，姓名和身份证号已作部分隐藏。"
            f"公示期内如有异议，请向{t.issuer}反映或拨打监督电话。"
        )
        rows = [
            intro,
            f"公示期：{cn_date(t.notice_date)}至{cn_date(t.last_day)}（共 {t.days} 天）",
            f"监督电话：{t.phone}" if t.phone else "监督电话：＿＿＿＿＿＿＿＿（系统未设置监督电话，请填写后再张贴）",
        ]
        self.heading = 40
        for r, value in enumerate(rows, 1):
            height = LINE_HEIGHT * lines_needed(value, WIDTH * 0.9) + 6
            self.heading += height
            sheet.set_row(r, height)
            self.paragraph.merge(sheet, r, 0, last, value)
        self.row = self.head_row = head = len(rows) + 1
        sheet.set_row(head, HEAD)
        for col, (title, _) in enumerate(COLUMNS):
            sheet.write_string(head, col, title, self.head)
        sheet.repeat_rows(head)

    def line(self, township: str, name: str, id_number: str, kind: str, amount: Decimal) -> None:
        self.row += 1
        self.count += 1
        self.total += amount
        sheet, r = self.sheet, self.row
        sheet.set_row(r, ROW)
        sheet.write_number(r, 0, self.count, self.serial)
        self.centred.write(sheet, r, 1, township)
        self.centred.write(sheet, r, 2, name)
        self.centred.write(sheet, r, 3, id_number)
        self.centred.write(sheet, r, 4, kind)
        sheet.write_number(r, 5, float(amount), self.money)

    def finish(self) -> None:
        sheet, last = self.sheet, len(COLUMNS) - 1
        r = self.row + 1
        sheet.set_row(r, TOTAL)
        sheet.merge_range(r, 0, r, 2, "合计", self.total_label)
        sheet.merge_range(r, 3, r, 4, f"共 {self.count:,} 人次", self.total_label)
        sheet.write_number(r, 5, float(self.total), self.total_money)
        r += 1
        sheet.set_row(r, BLANK)
        for value in (self.terms.issuer, cn_date(self.terms.notice_date)):
            r += 1
            sheet.set_row(r, SIGNED)
            self.signed.merge(sheet, r, 0, last, value)
        # A page break never leaves the total row and the office alone on a page, nor splits them from the
        # last lines; one row of every page is kept spare against rounding in the printer driver.
        first = int((PAGE_HEIGHT - self.heading - HEAD) // ROW) - 1
        per_page = int((PAGE_HEIGHT - HEAD) // ROW) - 1
        closing = math.ceil((TOTAL + BLANK + 2 * SIGNED) / ROW)
        starts = page_starts(self.count, first, per_page, closing)
        sheet.set_h_pagebreaks([self.head_row + line for line in starts])
        a4(sheet, landscape=False, margins=MARGINS)
        # One sheet per township restarts its page numbers; "共 N 页" would count the whole workbook's pages.
        pages = f"{header_text(self.township)}　第 &P 页" if self.township else PAGE_NUMBERS
        sheet.set_start_page(1)
        sheet.set_footer(f"&L&9{header_text(self.batch.number)}&C&9{pages}", {"margin": 0.3})

    def _sheet_name(self, name: str) -> str:
        """Excel's rules: at most 31 characters, none of []:*?/\\', and unique in the workbook."""
        base = SHEET_NAME_FORBIDDEN.sub("_", name)[:28] or "乡镇"
        candidate, n = base, 1
        while candidate.lower() in self.used:
            n += 1
            candidate = f"{base}({n})"
        self.used.add(candidate.lower())
        return candidate
