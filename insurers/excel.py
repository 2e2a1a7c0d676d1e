"""The 承办机构结算单 workbook (DATA-FORMATS §12): one sheet laid out as the printed voucher, A4 portrait, one page
wide. Period, insurer and contract; inpatient and secondary assistance (人次, 金额) by category and channel; for a
clearing the fee (base, rate, cap, amount) and the instalments paid; the balance in figures and in Chinese capitals;
the difference to the previous revision; prepared / reviewed by. Rendered from the stored statement, so a
download after the review carries the reviewer's name and the figures never change."""

import io
from decimal import Decimal

import xlsxwriter
from django.utils import timezone

from lib.capitals import amount_in_words
from lib.spreadsheet import safe_text
from reports.labels import category_label, category_rank
from reports.models import Channel

from .calc import direction_label
from .models import InsurerStatement

CHANNELS = dict(Channel.choices)
WIDTHS = (26, 18, 12, 18, 22)
LAST = len(WIDTHS) - 1


def _money(value) -> float | Decimal:
    return Decimal(value)


def statement_file_name(statement: InsurerStatement) -> str:
    return f"承办机构结算单-{statement.county.name}-{statement.number}.xlsx"


def statement_workbook(statement: InsurerStatement) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    stamp = timezone.localtime(statement.built_at or statement.created_at).replace(tzinfo=None)
    book.set_properties(
        {"title": f"承办机构结算单 {statement.number}", "author": "医疗救助经办管理系统", "created": stamp}
    )
    cell = {"border": 1, "valign": "vcenter", "font_size": 10}
    f = {
        "title": book.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}),
        "sub": book.add_format({"align": "center", "font_size": 10, "font_color": "#404040"}),
        "key": book.add_format({**cell, "bold": True, "bg_color": "#F2F2F2"}),
        "head": book.add_format({**cell, "bold": True, "align": "center", "bg_color": "#DDEBF7"}),
        "text": book.add_format({**cell, "text_wrap": True}),
        "count": book.add_format({**cell, "num_format": "#,##0"}),
        "money": book.add_format({**cell, "num_format": "#,##0.00"}),
        "bold": book.add_format({**cell, "bold": True}),
        "bold_count": book.add_format({**cell, "bold": True, "num_format": "#,##0"}),
        "bold_money": book.add_format({**cell, "bold": True, "num_format": "#,##0.00"}),
        "big_money": book.add_format({**cell, "bold": True, "font_size": 12, "num_format": "#,##0.00"}),
        "big_text": book.add_format({**cell, "bold": True, "font_size": 12, "text_wrap": True}),
        "section": book.add_format({"bold": True, "font_size": 11}),
        "note": book.add_format({"font_size": 9, "font_color": "#404040", "text_wrap": True, "valign": "top"}),
        "label": book.add_format({"align": "right", "valign": "bottom"}),
        "line": book.add_format({"bottom": 1, "valign": "bottom"}),
    }
    sheet = book.add_worksheet("结算单")
    for col, width in enumerate(WIDTHS):
        sheet.set_column(col, col, width)
    terms = statement.terms
    title = f"{statement.county.name}医疗救助承办保险机构{'年度清算单' if statement.kind == 'clearing' else '结算单'}"
    sheet.set_row(0, 30)
    sheet.merge_range(0, 0, 0, LAST, safe_text(title), f["title"])
    sheet.merge_range(
        1,
        0,
        1,
        LAST,
        safe_text(f"{statement.period_label} · 编号 {statement.number} · 第 {statement.revision} 版"),
        f["sub"],
    )
    r = 3
    contract = f"{terms.get('contract_start', '')} 至 {terms.get('contract_end', '')}"
    if terms.get("contract_number"):
        contract += f"（合同 {terms['contract_number']}）"
    for name, value in (
        ("县（区）", statement.county.name),
        ("承办保险机构", terms.get("insurer_name", "")),
        ("合同期限", contract),
        ("结算期间", statement.period_label),
        ("数据截至", statement.as_of.isoformat() if statement.as_of else ""),
    ):
        sheet.write_string(r, 0, name, f["key"])
        sheet.merge_range(r, 1, r, LAST, safe_text(value), f["text"])
        r += 1

    r += 1
    sheet.write_string(r, 0, "一、实际发生的住院救助和二次救助", f["section"])
    r += 1
    for col, head in enumerate(["救助类型", "救助类别", "人次", "金额（元）", "结算渠道"]):
        sheet.write_string(r, col, head, f["head"])
    rows = sorted(
        statement.figures.get("rows", []),
        key=lambda x: (x["kind"] != "inpatient", category_rank(x["category"]), x["channel"]),
    )
    if not rows:
        r += 1
        sheet.merge_range(r, 0, r, LAST, "本期无住院救助和二次救助", f["text"])
    for row in rows:
        r += 1
        sheet.write_string(r, 0, "住院救助" if row["kind"] == "inpatient" else "二次救助", f["text"])
        sheet.write_string(r, 1, safe_text(category_label(row["category"])), f["text"])
        sheet.write_number(r, 2, row["visits"], f["count"])
        sheet.write_number(r, 3, _money(row["amount"]), f["money"])
        sheet.write_string(r, 4, CHANNELS.get(row["channel"], row["channel"]), f["text"])
    for label, visits, amount in (
        ("住院救助小计", statement.inpatient_visits, statement.inpatient_amount),
        ("二次救助小计", statement.secondary_visits, statement.secondary_amount),
        ("实际救助合计", statement.inpatient_visits + statement.secondary_visits, statement.assistance),
    ):
        r += 1
        sheet.merge_range(r, 0, r, 1, label, f["bold"])
        sheet.write_number(r, 2, visits, f["bold_count"])
        sheet.write_number(r, 3, amount, f["bold_money"])
        sheet.write_blank(r, 4, None, f["bold"])

    r += 2
    if statement.kind == InsurerStatement.Kind.CLEARING:
        sheet.write_string(r, 0, "二、服务费和已拨付款项", f["section"])
        cap = terms.get("fee_cap")
        lines = [
            ("服务费计费基数（年度实际支出的医疗救助资金）", statement.fee_base_amount),
            (f"服务费比例 {Decimal(terms.get('fee_rate', '0')) * 100:.2f}%，按比例计算", statement.fee_uncapped),
            ("每年服务费上限" if cap is not None else "每年服务费上限（不设上限）", Decimal(cap) if cap else None),
            ("服务费" + ("（按上限计）" if statement.fee_capped else ""), statement.fee),
        ]
        for p in statement.figures.get("instalments", []):
            lines.append((f"减：已拨付 {p['period']}（{p['paid_on']}）", Decimal(p["amount"])))
        lines.append(("已拨付半年结算款合计", statement.instalments))
        lines.append(("实际救助 + 服务费 − 已拨付", statement.gross))
        for label, value in lines:
            r += 1
            sheet.merge_range(r, 0, r, 2, safe_text(label), f["text"])
            if value is None:
                sheet.merge_range(r, 3, r, LAST, "—", f["text"])
            else:
                sheet.merge_range(r, 3, r, LAST, value, f["money"])
        r += 2
        section = "三、清算结果（多退少补）"
    else:
        section = "二、本期应拨付"
    sheet.write_string(r, 0, section, f["section"])
    extra = []
    if statement.previous_id is not None:
        extra.append((f"上一版本（{statement.previous.number}）金额", statement.previous.gross))
        extra.append(("较上一版本增减", statement.difference))
    if statement.previously_paid:
        extra.append(("以前版本已结算（净额）", statement.previously_paid))
    for label, value in extra:
        r += 1
        sheet.merge_range(r, 0, r, 2, safe_text(label), f["text"])
        sheet.merge_range(r, 3, r, LAST, value, f["money"])
    due = statement.amount_due
    r += 1
    sheet.set_row(r, 22)
    sheet.merge_range(r, 0, r, 2, f"本次结算金额（小写）：{direction_label(due)}", f["bold"])
    sheet.merge_range(r, 3, r, LAST, abs(due), f["big_money"])
    r += 1
    sheet.set_row(r, 22)
    sheet.merge_range(r, 0, r, 2, "本次结算金额（大写）", f["bold"])
    sheet.merge_range(r, 3, r, LAST, amount_in_words(abs(due)), f["big_text"])
    r += 1
    sheet.set_row(r, 40)
    note = (
        "依据《茂名市进一步加强和改进医疗救助工作的实施方案》：承办保险机构先行垫付，县（区）于 7 月底前和 12 月底前"
        "分 2 次按实际发生的住院医疗救助和二次医疗救助资金拨付；服务费按年度实际支出的医疗救助资金总额的比例确定，"
        "每年不超过上限；次年 3 月按“多退少补”原则清算。"
    )
    sheet.merge_range(r, 0, r, LAST, note, f["note"])

    r += 2
    maker = statement.created_by.display_name if statement.created_by else "系统（操作员命令）"
    checker = statement.reviewed_by.display_name if statement.reviewed_by else ""
    for first, first_value, second, second_value in (
        ("制单：", maker, "复核：", checker),
        ("审批：", "", "日期：", "      年    月    日"),
        ("承办机构确认（盖章）：", "", "日期：", "      年    月    日"),
    ):
        sheet.set_row(r, 30)
        sheet.write_string(r, 0, first, f["label"])
        sheet.write_string(r, 1, safe_text(first_value), f["line"])
        sheet.write_string(r, 3, second, f["label"])
        sheet.write_string(r, 4, safe_text(second_value), f["line"])
        r += 1

    sheet.set_paper(9)  # A4
    sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.center_horizontally()
    sheet.set_margins(left=0.6, right=0.6, top=0.8, bottom=0.8)
    sheet.print_area(0, 0, r, LAST)
    sheet.set_header(f"&L&9{safe_text(statement.number)}&R&9{safe_text(statement.county.name)}")
    sheet.set_footer("&C&9第 &P 页 共 &N 页")
    book.close()
    return out.getvalue()
