"""The yearly report workbook: 汇总, 按乡镇, 按类别, 按月 with native charts, and 明细 streamed row by row."""

import datetime
import os
import tempfile
from decimal import Decimal

import xlsxwriter
from django.utils import timezone

from applications.models import Bill, Case
from recipients.categories import Category
from recipients.idnumber import mask_id_number
from recipients.models import Person
from settlements.models import Settlement

from .models import Channel
from .selectors import dashboard

CATEGORY_NAMES = dict(Category.choices)
CHANNEL_NAMES = dict(Channel.choices)


def _pct(value):
    return None if value is None else float(value)


def report_workbook(*, year: int, township=None, masked: bool = True, progress=None) -> bytes:
    data = dashboard(year=year, township=township)
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        book = xlsxwriter.Workbook(
            path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        book.set_properties({"title": f"{year} 年医疗救助统计报表", "author": "医疗救助经办管理系统"})
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        title = book.add_format({"bold": True, "font_size": 14})
        money = book.add_format({"num_format": "#,##0.00"})
        pct = book.add_format({"num_format": "0.00%"})
        text = book.add_format({"num_format": "@"})

        def setup(sheet, landscape=False):
            sheet.set_paper(9)  # A4
            sheet.set_landscape() if landscape else sheet.set_portrait()
            sheet.fit_to_pages(1, 0)
            sheet.set_footer("&C第 &P 页，共 &N 页")

        scope = township.name if township else "全县"
        s = book.add_worksheet("汇总")
        setup(s)
        s.set_column(0, 0, 40)
        s.set_column(1, 3, 18)
        s.write(0, 0, f"{year} 年医疗救助统计（{scope}）", title)
        t = data["totals"]
        rows = [
            ("直接救助人次", t["count"], None),
            ("直接救助金额（元）", float(t["amount"]), money),
            ("其中一站式结算人次", t["onestop"], None),
            ("二次救助人次", data["secondary"]["count"], None),
            ("二次救助金额（元）", float(data["secondary"]["amount"]), money),
        ]
        for r, (label, value, fmt) in enumerate(rows, start=2):
            s.write(r, 0, label)
            s.write(r, 1, value, fmt)
        r = len(rows) + 3
        for c, h in enumerate(["考核指标", "实际", "目标", "是否达标"]):
            s.write(r, c, h, head)
        for kpi in data["kpis"]:
            r += 1
            s.write(r, 0, kpi["name"])
            s.write(r, 1, _pct(kpi["value"]), pct)
            s.write(r, 2, _pct(kpi["target"]), pct)
            s.write(r, 3, "—" if kpi["met"] is None else ("达标" if kpi["met"] else "未达标"))
        r += 2
        fund = data["fund"]
        for c, h in enumerate(["救助资金", "金额（元）"]):
            s.write(r, c, h, head)
        for label, value in [
            *fund["income"],
            ("筹集合计", fund["raised"]),
            ("一站式结算救助", fund["onestop"]),
            ("零星报销和二次救助发放", fund["paid_out"]),
            ("支出合计", fund["spent"]),
            ("年末结余", fund["balance"]),
        ]:
            r += 1
            s.write(r, 0, label)
            s.write(r, 1, float(value), money)
        r += 1
        s.write(r, 0, "结余率（结余 ÷ 筹集）")
        s.write(r, 1, _pct(fund["ratio"]), pct)
        channel_rows = data["by_channel"]
        chart_top = r + 2
        for i, row in enumerate(channel_rows):
            s.write(chart_top + i, 0, CHANNEL_NAMES.get(row["channel"], row["channel"]))
            s.write(chart_top + i, 1, row["count"])
        if channel_rows:
            pie = book.add_chart({"type": "pie"})
            pie.add_series(
                {
                    "name": "救助人次按渠道",
                    "categories": ["汇总", chart_top, 0, chart_top + len(channel_rows) - 1, 0],
                    "values": ["汇总", chart_top, 1, chart_top + len(channel_rows) - 1, 1],
                }
            )
            pie.set_title({"name": "救助人次按渠道"})
            s.insert_chart(2, 3, pie)

        def table(name, headers, rows, chart_type, label_col=0, value_col=2, chart_title=""):
            sheet = book.add_worksheet(name)
            setup(sheet)
            sheet.set_column(0, 0, 18)
            sheet.set_column(1, len(headers), 16)
            for c, h in enumerate(headers):
                sheet.write(0, c, h, head)
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row):
                    sheet.write(r, c, value, money if isinstance(value, float) and c >= 2 else None)
            sheet.repeat_rows(0)
            if rows:
                chart = book.add_chart({"type": chart_type})
                chart.add_series(
                    {
                        "name": chart_title,
                        "categories": [name, 1, label_col, len(rows), label_col],
                        "values": [name, 1, value_col, len(rows), value_col],
                    }
                )
                chart.set_title({"name": chart_title})
                chart.set_legend({"none": chart_type != "pie"})
                sheet.insert_chart(1, len(headers) + 1, chart)
            return sheet

        table(
            "按乡镇",
            ["乡镇（街道）", "人次", "金额（元）"],
            [(row["township__name"], row["count"], float(row["amount"])) for row in data["by_township"]],
            "bar",
            chart_title="救助金额按乡镇",
        )
        table(
            "按类别",
            ["救助类别", "人次", "金额（元）"],
            [
                (CATEGORY_NAMES.get(row["category"], "未识别"), row["count"], float(row["amount"]))
                for row in data["by_category"]
            ],
            "pie",
            chart_title="救助金额按类别",
        )
        table(
            "按月",
            ["月份", "人次", "金额（元）"],
            [(f"{row['month']} 月", row["count"], float(row["amount"])) for row in data["by_month"]],
            "line",
            chart_title="救助金额按月",
        )
        if progress:
            progress("写入明细", 30)
        d = book.add_worksheet("明细")
        setup(d, landscape=True)
        headers = ["渠道", "救助类型", "日期", "乡镇（街道）", "姓名", "身份证号", "救助类别", "救助金额（元）"]
        for c, h in enumerate(headers):
            d.write(0, c, h, head)
        d.set_column(0, 1, 12)
        d.set_column(2, 4, 12)
        d.set_column(5, 5, 22)
        d.set_column(6, 7, 16)
        d.repeat_rows(0)
        d.freeze_panes(1, 0)
        r, limit, part = 0, 1_048_575, 1
        for row in _detail_rows(year, township):
            r += 1
            if r > limit:  # Excel's last row: continue on 明细2, 明细3 …
                part += 1
                d = book.add_worksheet(f"明细{part}")
                setup(d, landscape=True)
                for c, h in enumerate(headers):
                    d.write(0, c, h, head)
                d.repeat_rows(0)
                r = 1
            channel, benefit, day, town, name, id_number, category, amount = row
            d.write_string(r, 0, channel)
            d.write_string(r, 1, benefit)
            d.write_string(r, 2, day.isoformat() if day else "")
            d.write_string(r, 3, town)
            d.write_string(r, 4, name)
            d.write_string(r, 5, mask_id_number(id_number) if masked else id_number, text)
            d.write_string(r, 6, CATEGORY_NAMES.get(category, category or ""))
            d.write_number(r, 7, float(amount), money)
            if progress and r % 100000 == 0:
                progress(f"写入明细 {r} 行", min(95, 30 + r // 20000))
        book.close()
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def _detail_rows(year, township):
    """Every direct and secondary assistance of the year: one-stop settlements, approved bills, secondary cases."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    people = Person.objects.all() if township is None else Person.objects.filter(township=township)
    names = {n: (name, t) for n, name, t in people.values_list("id_number", "name", "township__name").iterator(5000)}
    for id_number, day, visit_type, amount in (
        Settlement.objects.filter(onestop__gt=0, service_date__gte=start, service_date__lte=end)
        .order_by("service_date", "number")
        .values_list("id_number", "service_date", "visit_type", "onestop")
        .iterator(10000)
    ):
        if id_number in names:
            name, town = names[id_number]
            yield CHANNEL_NAMES[Channel.ONESTOP], visit_type, day, town, name, id_number, "", amount
    bills = Bill.objects.filter(case__status__in=[Case.Status.APPROVED, Case.Status.PAID], granted__gt=0).exclude(
        case__source=Case.Source.SECONDARY
    )
    if township is not None:
        bills = bills.filter(case__township=township)
    for visit_type, discharged, visit, town, name, id_number, amount in bills.values_list(
        "visit_type",
        "discharged_on",
        "visit_on",
        "case__township__name",
        "case__person__name",
        "case__person__id_number",
        "granted",
    ).iterator(5000):
        day = discharged if visit_type == "住院" else visit
        if day and day.year == year:
            yield CHANNEL_NAMES[Channel.MANUAL], visit_type, day, town, name, id_number, "", amount
    cases = Case.objects.filter(
        source=Case.Source.SECONDARY, year=year, status__in=[Case.Status.APPROVED, Case.Status.PAID]
    )
    if township is not None:
        cases = cases.filter(township=township)
    for decided, town, name, id_number, amount in cases.values_list(
        "decided_at", "township__name", "person__name", "person__id_number", "approved_amount"
    ).iterator(5000):
        day = timezone.localtime(decided).date() if decided else None
        yield CHANNEL_NAMES[Channel.SECONDARY], "二次救助", day, town, name, id_number, "", amount or Decimal("0")
