"""The 资助参保 sheet of the yearly report: the insurance year's 资助参保率 by township and by category, with the
subsidy paid for the enrolled (DOMAIN §12.1), from subsidies.selectors.coverage as the dashboard shows it."""

from .labels import category_label

WIDTHS = (22, 10, 10, 12, 12, 16)


def subsidy_sheet(book, f, data, *, text, setup, note) -> None:
    """Sheet 资助参保 (only when the scope has a list for the year)."""
    c = data["subsidy"]
    if not c.total.listed:
        return
    sheet = book.add_worksheet("资助参保")
    setup(sheet, landscape=True)
    for col, width in enumerate(WIDTHS):
        sheet.set_column(col, col, width)
    text(sheet, 0, 0, f"{c.year} 参保年度资助参保", f.title)
    r = 2
    for title, rows, label in (
        ("按乡镇", c.by_township, lambda key: key),
        ("按资助类别", c.by_category, category_label),
    ):
        text(sheet, r, 0, title, f.head_left)
        r += 1
        for col, head in enumerate(["", "名单人数", "已参保", "未参保", "资助参保率", "资助金额（元）"]):
            text(sheet, r, col, head, f.head_left if col == 0 else f.head)
        for key, rate in rows:
            r += 1
            _row(sheet, f, r, label(key), rate, text=text)
        r += 1
        _row(sheet, f, r, "合计", c.total, text=text, bold=True)
        r += 2
    note(  # across the table, wrapped (in column A alone it was cut when printed)
        sheet,
        r,
        len(WIDTHS) - 1,
        "资助参保率 = 已参保人数 ÷ 资助参保名单人数；资助金额为已参保人员的资助金额之和（计入救助资金支出）。",
        f.note,
        WIDTHS,
    )


def _row(sheet, f, r, name, rate, *, text, bold=False):
    text(sheet, r, 0, name, f.bold if bold else None)
    sheet.write_number(r, 1, rate.listed, f.bold_count if bold else f.count)
    sheet.write_number(r, 2, rate.enrolled, f.bold_count if bold else f.count)
    sheet.write_number(r, 3, rate.not_enrolled, f.bold_count if bold else f.count)
    if rate.value is None:
        text(sheet, r, 4, "—", f.right)
    else:
        sheet.write_number(r, 4, rate.value, f.bold_pct if bold else f.pct)
    sheet.write_number(r, 5, rate.amount, f.bold_money if bold else f.money)
