"""The report workbook's 回访与投诉 sheet: the year's follow-up and complaint KPIs against their targets, the figures
behind them, and the same by township (followups.kpis). Printed A4 landscape, one page wide."""

from lib.spreadsheet import safe_text

TOWNSHIP_HEADERS = [
    "乡镇（街道）",
    "回访",
    "联系不上",
    "回答满意度",
    "满意+基本满意",
    "满意度",
    "回答知晓",
    "知晓",
    "知晓率",
    "联系上",
    "已到账",
    "到账确认率",
    "工单",
    "按时答复",
    "按时答复率",
]
WIDTHS = (26, 9, 9, 11, 13, 10, 10, 8, 10, 9, 9, 11, 8, 10, 11)


def _text(sheet, row, col, value, fmt=None):
    sheet.write_string(row, col, safe_text("" if value is None else str(value)), fmt)


def _ratio(sheet, row, col, value, f):
    if value is None:
        _text(sheet, row, col, "—", f.right)
    else:
        sheet.write_number(row, col, value, f.pct)


def followup_sheet(book, f, data: dict, *, scope: str, year: int) -> None:
    """`f` is the report's formats (reports.excel.Formats); `data` the dashboard's "followup" part."""
    s = book.add_worksheet("回访与投诉")
    s.set_paper(9)
    s.set_landscape()
    s.fit_to_pages(1, 0)
    s.set_footer("&C第 &P 页，共 &N 页")
    for col, width in enumerate(WIDTHS):
        s.set_column(col, col, width)
    _text(s, 0, 0, f"{year} 年回访与投诉（{scope}）", f.title)
    _text(s, 1, 0, f"回访按回访日期、工单按登记日期计，{data['start']:%Y-%m-%d} 至 {data['end']:%Y-%m-%d}", f.muted)
    r = 3
    for c, h in enumerate(["考核指标", "实际", "计算", "目标", "是否达标"]):
        _text(s, r, c, h, f.head_left if c == 0 else f.head)
    for kpi in data["kpis"]:
        r += 1
        _text(s, r, 0, kpi["name"])
        _ratio(s, r, 1, kpi["value"], f)
        _text(s, r, 2, kpi["detail"], f.right)
        _ratio(s, r, 3, kpi["target"], f)
        met = "—" if kpi["met"] is None else ("达标" if kpi["met"] else "未达标")
        _text(s, r, 4, met, f.alert if kpi["met"] is False else f.right)
    figures = data["figures"]
    r += 2
    _text(s, r, 0, "回访与工单", f.head_left)
    _text(s, r, 1, "数量", f.head)
    for label, key in [
        ("已回访（含联系不上）", "calls"),
        ("联系上", "reached"),
        ("联系不上", "unreachable"),
        ("已到账", "received"),
        ("未到账", "missing"),
        ("金额不符", "mismatch"),
        ("投诉工单（登记）", "tickets"),
        ("已答复", "tickets_replied"),
        ("其中按时答复", "tickets_on_time"),
        ("超期未答复", "tickets_overdue"),
    ]:
        r += 1
        _text(s, r, 0, label)
        s.write_number(r, 1, figures[key], f.count)
    r += 2
    head = r
    for c, h in enumerate(TOWNSHIP_HEADERS):
        _text(s, r, c, h, f.head_left if c == 0 else f.head)
    for row in data["by_township"]:
        r += 1
        name = (
            f"{row['township__county__name']} · {row['township__name']}"
            if data["several_counties"]
            else row["township__name"]
        )
        _text(s, r, 0, name)
        kpis = row["kpis"]
        cells = [
            ("n", row["calls"]),
            ("n", row["unreachable"]),
            ("n", row["answered"]),
            ("n", row["satisfied"]),
            ("r", kpis[0]["value"]),
            ("n", row["aware_answered"]),
            ("n", row["aware"]),
            ("r", kpis[1]["value"]),
            ("n", row["reached"]),
            ("n", row["received"]),
            ("r", kpis[2]["value"]),
            ("n", row["tickets"]),
            ("n", row["tickets_on_time"]),
            ("r", kpis[3]["value"]),
        ]
        for col, (kind, value) in enumerate(cells, start=1):
            if kind == "n":
                s.write_number(r, col, value, f.count)
            else:
                _ratio(s, r, col, value, f)
    if not data["by_township"]:
        _text(s, r + 1, 0, "本年没有回访记录和投诉工单。", f.muted)
    s.repeat_rows(head)
