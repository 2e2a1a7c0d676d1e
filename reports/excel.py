"""The yearly report workbook: 汇总 (figures, KPIs, fund, channels, notes, then its chart below them), 按乡镇,
按类别 and 按月 (a table with a native chart to its right), 回访与投诉 (reports.excel_followup), and 明细 streamed
row by row (XlsxWriter's constant_memory mode: memory does not grow with the rows).

Money goes to the cells as Decimal (XlsxWriter writes its exact decimal text); every text from the data passes
through lib.spreadsheet.safe_text, so no cell starts a formula.
"""

import math
import os
import tempfile
from decimal import Decimal

import xlsxwriter
from django.utils import timezone

from lib.spreadsheet import safe_text
from recipients.idnumber import mask_id_number

from .detail import detail_rows
from .excel_followup import followup_sheet
from .labels import UNIDENTIFIED_NOTE, category_label, category_rank, scope_name
from .models import Channel
from .selectors import dashboard
from .subsidy_sheet import subsidy_sheet

CHANNEL_NAMES = dict(Channel.choices)
CHANNEL_ORDER = [c.value for c in Channel]
ZERO = Decimal("0")
DETAIL_HEADERS = ["渠道", "救助类型", "日期", "乡镇（街道）", "姓名", "身份证号", "救助类别", "救助金额（元）"]
EXCEL_LAST_ROW = 1_048_575
# 汇总's columns: label, then four of figures; its chart spans them, below the last table.
SUMMARY_WIDTHS = (40, 16, 26, 14, 12)
PX_PER_UNIT = 7  # Calibri 11: a width unit is about 7 pixels


class Formats:
    def __init__(self, book):
        self.head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center"})
        self.head_left = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.muted = book.add_format({"font_color": "#595959", "font_size": 9})
        self.note = book.add_format({"font_color": "#404040", "font_size": 9, "text_wrap": True, "valign": "top"})
        self.money = book.add_format({"num_format": "#,##0.00"})
        self.count = book.add_format({"num_format": "#,##0"})
        self.pct = book.add_format({"num_format": "0.00%"})
        self.right = book.add_format({"align": "right"})
        self.text = book.add_format({"num_format": "@"})
        self.bold = book.add_format({"bold": True, "top": 1})
        self.bold_count = book.add_format({"bold": True, "top": 1, "num_format": "#,##0"})
        self.bold_money = book.add_format({"bold": True, "top": 1, "num_format": "#,##0.00"})
        self.bold_pct = book.add_format({"bold": True, "top": 1, "num_format": "0.00%"})
        self.alert = book.add_format({"align": "right", "font_color": "#C00000", "bold": True})


def _text(sheet, row, col, value, fmt=None):
    sheet.write_string(row, col, safe_text("" if value is None else str(value)), fmt)


def _ratio(value):
    return "" if value is None else value


def _setup(sheet, *, landscape=False):
    sheet.set_paper(9)  # A4
    sheet.set_landscape() if landscape else sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.set_footer("&C第 &P 页，共 &N 页")


def _note(sheet, row, last_col, text, fmt, widths):
    """A note across columns 0..last_col, wrapped, its row as tall as its lines (at 9 points a CJK character is
    about 12 pixels wide, a Latin one about 6)."""
    pixels = sum(widths[: last_col + 1]) * PX_PER_UNIT - 10
    needed = sum(12 if ord(ch) > 0x2E80 else 6 for ch in text)
    sheet.set_row(row, 13 * max(1, math.ceil(needed / pixels)) + 4)
    sheet.merge_range(row, 0, row, last_col, safe_text(text), fmt)


def report_workbook(*, year: int, township=None, county=None, masked: bool = True, progress=None) -> bytes:
    data = dashboard(year=year, township=township, county=county)
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        book = xlsxwriter.Workbook(
            path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        book.set_properties({"title": f"{year} 年医疗救助统计报表", "author": "医疗救助经办管理系统"})
        f = Formats(book)
        scope = scope_name(township=township, county=county)
        unidentified = next((r for r in data["by_category"] if not r["category"]), None)
        _summary_sheet(
            book, f, data, year=year, scope=scope, unidentified=unidentified, township_scoped=township is not None
        )
        _table_sheets(book, f, data, unidentified=unidentified)
        subsidy_sheet(book, f, data, text=_text, setup=_setup, note=_note)
        _recovery_sheet(book, f, data["recoveries"], year=year)
        followup_sheet(book, f, data["followup"], scope=scope, year=year)
        if progress:
            progress("写入明细", 30)
        _detail_sheets(book, f, year, township, county, masked=masked, unidentified=unidentified, progress=progress)
        book.close()
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def _summary_sheet(book, f, data, *, year, scope, unidentified, township_scoped=False):
    s = book.add_worksheet("汇总")
    _setup(s)
    for col, width in enumerate(SUMMARY_WIDTHS):
        s.set_column(col, col, width)
    last_col = len(SUMMARY_WIDTHS) - 1
    _text(s, 0, 0, f"{year} 年医疗救助统计（{scope}）", f.title)
    refreshed = data["refreshed"].refreshed_at if data["refreshed"] else None
    when = f"统计数据刷新于 {timezone.localtime(refreshed):%Y-%m-%d %H:%M}，" if refreshed else "统计数据尚未汇总，"
    _text(s, 1, 0, f"{when}报表生成于 {timezone.localtime():%Y-%m-%d %H:%M}", f.muted)

    t = data["totals"]
    r = 3
    _text(s, r, 0, "主要数据", f.head_left)
    _text(s, r, 1, "数值", f.head)
    for label, value, fmt in [
        ("直接救助人次", t["count"], f.count),
        ("直接救助金额（元）", t["amount"], f.money),
        ("其中一站式结算人次", t["onestop"], f.count),
        ("二次救助人次", data["secondary"]["count"], f.count),
        ("二次救助金额（元）", data["secondary"]["amount"], f.money),
    ]:
        r += 1
        _text(s, r, 0, label)
        s.write_number(r, 1, value, fmt)

    r += 2
    for c, h in enumerate(["考核指标", "实际", "计算", "目标", "是否达标"]):
        _text(s, r, c, h, f.head_left if c == 0 else f.head)
    for kpi in data["kpis"]:
        r += 1
        _kpi_row(s, f, r, kpi["name"], kpi)
        for county in kpi.get("by_county", ()):
            r += 1
            _kpi_row(s, f, r, f"　其中 {county['county']}", county)
    coverage = data["subsidy"]
    if coverage.rules or coverage.total.listed:
        r += 1
        rate = coverage.total
        _kpi_row(
            s,
            f,
            r,
            f"资助参保率（{year} 参保年度）",
            {"value": rate.value, "detail": rate.detail, "target": coverage.target, "met": coverage.met},
        )

    r += 2
    # The fund is the county's (it is not kept by township): a township's report says so.
    _text(s, r, 0, "救助资金（全县）" if township_scoped else "救助资金", f.head_left)
    _text(s, r, 1, "金额（元）", f.head)
    fund = data["fund"]
    for label, value in [
        *fund["income"],
        ("筹集合计", fund["raised"]),
        ("一站式结算救助", fund["onestop"]),
        ("零星报销和二次救助发放", fund["paid_out"]),
        ("资助参保", fund["subsidy"]),
        *([("承办保险机构服务费", fund["insurer_fee"])] if fund.get("insurer_fee") else []),
        ("支出合计", fund["spent"]),
        ("追回款退回基金", fund["returned"]),
        ("年末结余", fund["balance"]),
    ]:
        r += 1
        total = label in ("筹集合计", "支出合计", "年末结余")
        _text(s, r, 0, label, f.bold if total else None)
        s.write_number(r, 1, value, f.bold_money if total else f.money)
    r += 1
    _text(s, r, 0, "结余率（结余 ÷ 筹集）")
    if fund["ratio"] is None:
        _text(s, r, 1, "—", f.right)
    else:
        s.write_number(r, 1, fund["ratio"], f.pct)

    r += 2
    for c, h in enumerate(["救助渠道", "人次", "金额（元）", "人次占比"]):
        _text(s, r, c, h, f.head_left if c == 0 else f.head)
    channels = sorted(data["by_channel"], key=lambda row: CHANNEL_ORDER.index(row["channel"]))
    all_visits = sum(row["count"] for row in channels)
    first_channel = r + 1
    for row in channels:
        r += 1
        _text(s, r, 0, CHANNEL_NAMES.get(row["channel"], row["channel"]))
        s.write_number(r, 1, row["count"], f.count)
        s.write_number(r, 2, row["amount"], f.money)
        s.write_number(r, 3, Decimal(row["count"]) / all_visits, f.pct)
    last_channel = r
    r += 1
    _text(s, r, 0, "合计", f.bold)
    s.write_number(r, 1, all_visits, f.bold_count)
    s.write_number(r, 2, sum((row["amount"] for row in channels), ZERO), f.bold_money)
    s.write_number(r, 3, 1 if all_visits else 0, f.bold_pct)

    r += 2
    _text(s, r, 0, "说明", f.head_left)
    notes = [
        "直接救助 = 一站式结算 + 零星报销；二次救助按人按年另计。各表“人次”：每笔获救助的结算、零星报销就诊记录或二次救助案件计 1 人次。"
    ]
    if unidentified is not None:
        notes.append(f"{UNIDENTIFIED_NOTE}本年共 {unidentified['count']:,} 人次、{unidentified['amount']:,.2f} 元。")
    for text in notes:
        r += 1
        _note(s, r, last_col, text, f.note, SUMMARY_WIDTHS)

    if channels:
        chart = book.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": "救助人次",
                "categories": ["汇总", first_channel, 0, last_channel, 0],
                "values": ["汇总", first_channel, 1, last_channel, 1],
                "data_labels": {"value": True, "num_format": "#,##0"},
                "fill": {"color": "#4472C4"},
            }
        )
        chart.set_title({"name": "救助人次按渠道", "name_font": {"size": 12}})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True, "crossing": "max"})
        chart.set_x_axis({"num_format": "#,##0", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        width = sum(SUMMARY_WIDTHS) * PX_PER_UNIT
        chart.set_size({"width": width, "height": 90 + 40 * len(channels)})
        # Below everything written: the chart covers no table.
        s.insert_chart(r + 2, 0, chart, {"x_offset": 0, "y_offset": 0, "object_position": 3})


def _kpi_row(s, f, r, name, kpi):
    _text(s, r, 0, name)
    if kpi["value"] is None:
        _text(s, r, 1, "—", f.right)
    else:
        s.write_number(r, 1, kpi["value"], f.pct)
    _text(s, r, 2, kpi.get("detail", ""), f.right)
    if kpi["target"] is None:
        _text(s, r, 3, "—", f.right)
    else:
        s.write_number(r, 3, kpi["target"], f.pct)
    _text(
        s,
        r,
        4,
        "—" if kpi["met"] is None else ("达标" if kpi["met"] else "未达标"),
        f.alert if kpi["met"] is False else f.right,
    )


def _table_sheets(book, f, data, *, unidentified):
    towns = data["by_township"]
    _table(
        book,
        f,
        "按乡镇",
        "乡镇（街道）",
        [(row["label"], row["count"], row["amount"]) for row in towns],
        {"type": "bar"},
        chart_title="救助金额按乡镇",
        height=min(1400, max(320, 90 + 22 * len(towns))),
    )
    categories = sorted(data["by_category"], key=lambda row: category_rank(row["category"]))
    _table(
        book,
        f,
        "按类别",
        "救助类别",
        [(category_label(row["category"]), row["count"], row["amount"]) for row in categories],
        {"type": "pie"},
        chart_title="救助金额按类别",
        notes=[UNIDENTIFIED_NOTE] if unidentified is not None else [],
    )
    months = {row["month"]: row for row in data["by_month"]}
    last = max(months, default=0)
    _table(
        book,
        f,
        "按月",
        "月份",
        [
            (f"{m} 月", months[m]["count"] if m in months else 0, months[m]["amount"] if m in months else ZERO)
            for m in range(1, last + 1)
        ],
        {"type": "line"},
        chart_title="救助金额按月",
    )


RECOVERY_HEADERS = ["件数", "应追回（元）", "已追回（元）", "已核销（元）", "尚欠（元）"]


def _recovery_sheet(book, f, recoveries: dict, *, year: int) -> None:
    """追回: the year's recoveries by reason, then by township (count, amount due, recovered, written off, owed)."""
    sheet = book.add_worksheet("追回")
    _setup(sheet, landscape=True)
    for col, width in enumerate((20, 8, 16, 16, 16, 16)):
        sheet.set_column(col, col, width)
    _text(sheet, 0, 0, f"{year} 年登记的追回", f.title)
    r = 1
    for label, rows, name in (
        ("追回原因", recoveries["by_reason"], "label"),
        ("乡镇（街道）", recoveries["by_township"], "township__name"),
    ):
        r += 1
        for c, h in enumerate([label, *RECOVERY_HEADERS]):
            _text(sheet, r, c, h, f.head_left if c == 0 else f.head)
        for row in rows:
            r += 1
            _text(sheet, r, 0, row[name])
            sheet.write_number(r, 1, row["count"], f.count)
            for c, key in enumerate(("amount", "recovered", "written_off", "due"), start=2):
                sheet.write_number(r, c, row[key], f.money)
        r += 1
        totals = recoveries["totals"]
        _text(sheet, r, 0, "合计", f.bold)
        sheet.write_number(r, 1, totals["count"], f.bold_count)
        for c, key in enumerate(("amount", "recovered", "written_off", "due"), start=2):
            sheet.write_number(r, c, totals[key], f.bold_money)
        r += 1


def _table(book, f, name, label, rows, chart_type, *, chart_title, height=320, notes=()):
    """A table of (label, 人次, 金额) with its chart to the right (a column between), and notes below."""
    sheet = book.add_worksheet(name)
    _setup(sheet, landscape=True)
    widths = (20, 10, 16)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.set_column(3, 3, 2)
    for c, h in enumerate([label, "人次", "金额（元）"]):
        _text(sheet, 0, c, h, f.head_left if c == 0 else f.head)
    for r, (text, count, amount) in enumerate(rows, start=1):
        _text(sheet, r, 0, text)
        sheet.write_number(r, 1, count, f.count)
        sheet.write_number(r, 2, amount, f.money)
    sheet.repeat_rows(0)
    r = len(rows) + 1
    if rows:
        _text(sheet, r, 0, "合计", f.bold)
        sheet.write_number(r, 1, sum(count for _, count, _ in rows), f.bold_count)
        sheet.write_number(r, 2, sum((amount for _, _, amount in rows), ZERO), f.bold_money)
        r += 1
    for text in notes:
        r += 1
        _note(sheet, r, 2, text, f.note, widths)
    if not rows:
        return
    chart = book.add_chart(chart_type)
    series = {
        "name": chart_title,
        "categories": [name, 1, 0, len(rows), 0],
        "values": [name, 1, 2, len(rows), 2],
    }
    if chart_type["type"] == "pie":
        series["data_labels"] = {"percentage": True, "leader_lines": True, "position": "best_fit"}
    elif chart_type["type"] == "line":
        series["marker"] = {"type": "circle", "size": 5}
    else:
        series["data_labels"] = {"value": True, "num_format": "#,##0"}
    chart.add_series(series)
    chart.set_title({"name": chart_title, "name_font": {"size": 12}})
    chart.set_legend({"position": "right"} if chart_type["type"] == "pie" else {"none": True})
    if chart_type["type"] == "bar":
        chart.set_y_axis({"reverse": True, "interval_unit": 1, "crossing": "max"})
        chart.set_x_axis({"num_format": "#,##0"})
    elif chart_type["type"] == "line":
        chart.set_y_axis({"num_format": "#,##0"})
    chart.set_size({"width": 600, "height": height})
    sheet.insert_chart(0, 4, chart, {"object_position": 3})


def _detail_sheet(book, f, name, unidentified):
    d = book.add_worksheet(name)
    _setup(d, landscape=True)
    if unidentified is not None:
        d.set_header(f"&L&8{UNIDENTIFIED_NOTE}")
    for c, h in enumerate(DETAIL_HEADERS):
        _text(d, 0, c, h, f.head_left)
    for col, width in enumerate((11, 11, 11, 13, 10, 21, 20, 15)):
        d.set_column(col, col, width)
    d.repeat_rows(0)
    d.freeze_panes(1, 0)
    return d


def _detail_sheets(book, f, year, township, county, *, masked, unidentified, progress):
    d = _detail_sheet(book, f, "明细", unidentified)
    r, part = 0, 1
    for written, row in enumerate(detail_rows(year, township, county), start=1):
        r += 1
        if r > EXCEL_LAST_ROW:  # Excel's last row: continue on 明细2, 明细3 …
            part += 1
            d = _detail_sheet(book, f, f"明细{part}", unidentified)
            r = 1
        _text(d, r, 0, row.channel)
        _text(d, r, 1, row.benefit)
        _text(d, r, 2, row.day.isoformat() if row.day else "")
        _text(d, r, 3, row.township)
        _text(d, r, 4, row.name)
        _text(d, r, 5, mask_id_number(row.id_number) if masked else row.id_number, f.text)
        _text(d, r, 6, category_label(row.category))
        d.write_number(r, 7, row.amount, f.money)
        if progress and written % 100000 == 0:
            progress(f"写入明细 {written} 行", min(95, 30 + written // 20000))
