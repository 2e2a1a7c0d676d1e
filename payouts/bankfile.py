"""The 代发文件 (DATA-FORMATS §5), written with XlsxWriter in constant-memory mode, and printable as it is.

代发明细 stays the plain table the bank's system reads: the header row, then one row per line, nothing else — a
total row there would be read as one more payment, and title rows above the header as a line with no account. So
the printed 代发明细 takes its title (batch number, 摘要, date) from the page header, and the batch total from the
page footer; the 汇总 sheet is the printed cover that closes the document: title, the batch's facts, the total in
figures and in capitals, the township subtotals with their total row, and the 制单 / 复核 / 审批 / 日期 lines.
A separate 打印 sheet repeating every line was measured at about 2.5× a plain write of the rows, past the 2× budget.

The same batch always gives the same bytes (payouts.workbook), and a batch first exported with the earlier layout
gets that layout's bytes again (payouts.bankfile_v1): the recorded SHA-256 decides.
"""

import hashlib
from decimal import Decimal

from django.db.models import Count, Sum

from lib.capitals import amount_in_words

from . import bankfile_v1
from .models import PayoutBatch
from .workbook import (
    LINE_HEIGHT,
    PAGE_NUMBERS,
    TextFormats,
    a4,
    batch_workbook,
    cn_date,
    display_width,
    export_stamp,
    header_text,
    lines_needed,
    money_text,
)

# Widths in column units (a Chinese character takes two): 金额 fits 999,999,999.99 and is kept apart from the
# 身份证号 by an indent on both, an 18-character ID fits without wrapping, names and banks longer than their
# column wrap onto more lines. 摘要, the same on every line, gets the width it needs up to PURPOSE_MAX.
DETAIL_COLUMNS = [
    ("序号", 7),
    ("户名", 12),
    ("银行账号", 23),
    ("开户银行", 30),
    ("金额（元）", 16),
    ("身份证号", 22),
    ("摘要", 16),
    ("业务编号", 22),
]
DETAIL_HEADERS = [name for name, _ in DETAIL_COLUMNS]
PURPOSE_MAX = 40
TITLE = "医疗救助代发明细表"
SUMMARY_TITLE = "医疗救助代发汇总表"


def bank_file(batch: PayoutBatch) -> bytes:
    """Sheet 代发明细 (one row per line not removed) and sheet 汇总, streamed row by row.

    A re-export of a batch whose recorded hash is not this layout's but the earlier layout's gives the earlier
    file: the bank and the audit trail already have it.
    """
    content = _write(batch)
    if batch.content_hash and hashlib.sha256(content).hexdigest() != batch.content_hash:
        earlier = bankfile_v1.bank_file(batch)
        if hashlib.sha256(earlier).hexdigest() == batch.content_hash:
            return earlier
    return content


def line_purpose(purpose: str, offset: Decimal) -> str:
    """A line's 摘要: the batch's, and what was kept back from it against a recovery (抵扣) when anything was."""
    return f"{purpose}（已抵扣追回款 {money_text(offset)} 元）" if offset else purpose


def _write(batch: PayoutBatch) -> bytes:
    stamp = export_stamp(batch)
    # A line offset in full pays nothing: it is not the bank's (payouts.offsets settles it at the first export).
    lines = batch.lines.exclude(status="removed").filter(amount__gt=0)
    totals = lines.aggregate(n=Count("pk"), total=Sum("amount"))
    count, total = totals["n"], totals["total"] or Decimal("0")
    with batch_workbook(batch, f"医疗救助代发 {batch.number}", stamp) as (workbook, result):
        _detail(workbook, batch, lines, stamp, count, total)
        _summary(workbook, batch, lines, stamp, count, total)
        return result()


def _detail(workbook, batch, lines, stamp, count: int, total: Decimal) -> None:
    cell = {"border": 1, "valign": "vcenter"}
    head = workbook.add_format({**cell, "bold": True, "align": "center", "bg_color": "#F2F2F2", "text_wrap": True})
    serial = workbook.add_format({**cell, "align": "center"})
    money = workbook.add_format({**cell, "num_format": "#,##0.00", "align": "right", "indent": 1})
    text = TextFormats(workbook, **cell)
    id_text = TextFormats(workbook, **cell, indent=1)
    wrapped = TextFormats(workbook, **cell, text_wrap=True)
    sheet = workbook.add_worksheet("代发明细")
    widths = [width for _, width in DETAIL_COLUMNS]
    offsets = set(lines.filter(offset__gt=0).values_list("offset", flat=True).distinct()[:1000])
    longest = max((display_width(line_purpose(batch.purpose, o)) for o in offsets | {Decimal("0")}), default=0)
    widths[6] = min(max(widths[6], longest + 2), PURPOSE_MAX)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    sheet.set_default_row(LINE_HEIGHT + 4)  # a little air around one line, without a height per row
    sheet.set_row(0, LINE_HEIGHT * 1.6)
    for col, title in enumerate(DETAIL_HEADERS):
        sheet.write_string(0, col, title, head)
    purpose_lines = lines_needed(batch.purpose, widths[6])
    rows = lines.order_by("reference").values_list(
        "payee_name", "payee_account", "payee_bank", "amount", "id_number", "reference", "offset"
    )
    for row, (name, account, bank, amount, id_number, reference, offset) in enumerate(
        rows.iterator(chunk_size=5000), 1
    ):
        purpose = line_purpose(batch.purpose, offset)
        height = max(
            purpose_lines if not offset else lines_needed(purpose, widths[6]),
            lines_needed(name, widths[1]),
            lines_needed(bank, widths[3]),
        )
        if height > 1:  # before the row's cells: constant-memory mode writes a row out when the next one starts
            sheet.set_row(row, LINE_HEIGHT * height + 4)
        sheet.write_number(row, 0, row, serial)
        wrapped.write(sheet, row, 1, name)
        text.write(sheet, row, 2, account)
        wrapped.write(sheet, row, 3, bank)
        sheet.write_number(row, 4, float(amount), money)  # an exact two-decimal amount; Excel stores doubles
        id_text.write(sheet, row, 5, id_number)
        wrapped.write(sheet, row, 6, purpose)
        text.write(sheet, row, 7, reference)
    a4(sheet, landscape=True, margins=(0.4, 0.4, 0.8, 0.7))
    sheet.repeat_rows(0)
    sheet.set_header(
        f"&L&10批次号：{header_text(batch.number)}　摘要：{header_text(batch.purpose)}"
        f'&C&"-,Bold"&14{TITLE}&R&10导出日期：{cn_date(stamp.date())}',
        {"margin": 0.3},
    )
    sheet.set_footer(
        f"&L&9本批次共 {count:,} 笔，合计 {money_text(total)} 元（{amount_in_words(total)}），"
        f"汇总与签章见“汇总”表&R&9{PAGE_NUMBERS}",
        {"margin": 0.3},
    )


def _summary(workbook, batch, lines, stamp, count: int, total: Decimal) -> None:
    cell = {"border": 1, "valign": "vcenter"}
    title = workbook.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    key = workbook.add_format({**cell, "bold": True, "bg_color": "#F2F2F2"})
    head = workbook.add_format({**cell, "bold": True, "align": "center", "bg_color": "#F2F2F2"})
    count_format = workbook.add_format({**cell, "align": "left", "num_format": "#,##0"})
    money = workbook.add_format({**cell, "align": "left", "num_format": "#,##0.00"})
    right_count = workbook.add_format({**cell, "num_format": "#,##0"})
    right_money = workbook.add_format({**cell, "num_format": "#,##0.00"})
    bold_count = workbook.add_format({**cell, "bold": True, "num_format": "#,##0"})
    bold_money = workbook.add_format({**cell, "bold": True, "num_format": "#,##0.00"})
    text = TextFormats(workbook, **cell, text_wrap=True)
    label = workbook.add_format({"align": "right", "valign": "bottom"})
    line = workbook.add_format({"bottom": 1, "valign": "bottom"})
    sheet = workbook.add_worksheet("汇总")
    for col, width in enumerate([20, 16, 16, 26]):
        sheet.set_column(col, col, width)

    sheet.set_row(0, 36)
    sheet.merge_range(0, 0, 0, 3, SUMMARY_TITLE, title)
    capitals = amount_in_words(total)
    facts = [
        ("批次号", batch.number),
        ("笔数", count),
        ("金额合计（小写）", total),
        ("金额合计（大写）", capitals),
        ("摘要", batch.purpose),
        *_offset_facts(batch),
        # Only on a batch the insurer pays: earlier batches keep their recorded bytes.
        *([("付款单位", f"{batch.payer_name}（承办保险机构结算备付金）")] if batch.payer_name else []),
        ("制单人", batch.created_by.display_name if batch.created_by else ""),
        ("复核人", batch.reviewed_by.display_name if batch.reviewed_by else ""),
        ("导出时间", stamp.strftime("%Y-%m-%d %H:%M")),
    ]
    r = 1
    for name, value in facts:
        sheet.set_row(r, LINE_HEIGHT * 1.4)
        sheet.write_string(r, 0, name, key)
        if isinstance(value, Decimal):
            sheet.merge_range(r, 1, r, 3, float(value), money)
        elif isinstance(value, int):
            sheet.merge_range(r, 1, r, 3, value, count_format)
        else:
            text.merge(sheet, r, 1, 3, str(value))
        r += 1

    r += 1
    sheet.set_row(r, LINE_HEIGHT * 1.4)
    sheet.write_string(r, 0, "乡镇（街道）", head)
    sheet.write_string(r, 1, "笔数", head)
    sheet.merge_range(r, 2, r, 3, "金额（元）", head)
    by_township = lines.values_list("township__name").annotate(n=Count("pk"), total=Sum("amount"))
    for name, n, subtotal in by_township.order_by("township__name"):
        r += 1
        sheet.set_row(r, LINE_HEIGHT * 1.3)
        text.write(sheet, r, 0, name)
        sheet.write_number(r, 1, n, right_count)
        sheet.merge_range(r, 2, r, 3, float(subtotal), right_money)
    r += 1
    sheet.set_row(r, LINE_HEIGHT * 1.4)
    sheet.write_string(r, 0, "合计", key)
    sheet.write_number(r, 1, count, bold_count)
    sheet.merge_range(r, 2, r, 3, float(total), bold_money)

    # Signature lines, two to a row, with room to sign above each line.
    r += 2
    for first, second in (("制单：", "复核："), ("审批：", "日期：")):
        sheet.set_row(r, LINE_HEIGHT * 2.4)
        sheet.write_string(r, 0, first, label)
        sheet.write_blank(r, 1, None, line)
        sheet.write_string(r, 2, second, label)
        sheet.write_string(r, 3, "      年    月    日" if second == "日期：" else "", line)
        r += 1

    a4(sheet, landscape=False, margins=(0.7, 0.7, 0.8, 0.7))
    sheet.set_footer(f"&L&9{header_text(batch.number)}&R&9{PAGE_NUMBERS}", {"margin": 0.3})


def _offset_facts(batch: PayoutBatch) -> list[tuple[str, object]]:
    """What was kept back against recoveries, when anything was (a batch without offsets gets the file it always
    had)."""
    kept = batch.lines.exclude(status="removed").filter(offset__gt=0)
    totals = kept.aggregate(n=Count("pk"), total=Sum("offset"))
    if not totals["n"]:
        return []
    whole = kept.filter(amount=0).count()
    facts = [("抵扣追回款", f"{totals['n']:,} 笔，合计 {money_text(totals['total'])} 元（已从实发金额中扣除）")]
    if whole:
        facts.append(("全额抵扣", f"{whole:,} 笔：实发 0 元，不在代发明细中"))
    return facts
