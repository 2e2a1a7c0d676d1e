"""The bank file as exported until the printable layout (layout 1). Frozen: do not edit.

A batch first exported with this layout has its SHA-256 recorded, and every re-export must give those bytes again;
payouts.bankfile falls back to this writer when the recorded hash is one of its files. Any change here, even a
column width, would make such a batch impossible to export again.
"""

import io
import os
import tempfile
import zipfile

import xlsxwriter
from django.db.models import Count, Sum
from django.utils import timezone

from lib.capitals import amount_in_words

from .models import PayoutBatch

DETAIL_HEADERS = ["序号", "户名", "银行账号", "开户银行", "金额（元）", "身份证号", "摘要", "业务编号"]
FORMULA_START = ("=", "+", "-", "@")
FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _text(sheet, row, col, value, plain, guarded):
    value = value or ""
    sheet.write_string(row, col, value, guarded if value.startswith(FORMULA_START) else plain)


def _reproducible(path: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in sorted(source.infolist(), key=lambda i: i.filename):
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            with source.open(info) as reader, target.open(entry, "w") as writer:
                while chunk := reader.read(1 << 20):
                    writer.write(chunk)
    return out.getvalue()


def bank_file(batch: PayoutBatch) -> bytes:
    """Sheets 代发明细 and 汇总 exactly as layout 1 wrote them."""
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        workbook = xlsxwriter.Workbook(
            path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        stamp = timezone.localtime(batch.exported_at or batch.reviewed_at or batch.created_at).replace(tzinfo=None)
        workbook.set_properties(
            {"title": f"医疗救助代发 {batch.number}", "author": "医疗救助经办管理系统", "created": stamp}
        )
        bold = workbook.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#F2F2F2"})
        plain = workbook.add_format({"num_format": "@"})
        guarded = workbook.add_format({"num_format": "@", "quote_prefix": True})
        money = workbook.add_format({"num_format": "#,##0.00"})
        detail = workbook.add_worksheet("代发明细")
        widths = [6, 12, 24, 28, 14, 22, 14, 20]
        for col, width in enumerate(widths):
            detail.set_column(col, col, width)
        detail.freeze_panes(1, 0)
        for col, title in enumerate(DETAIL_HEADERS):
            detail.write_string(0, col, title, bold)
        lines = (
            batch.lines.exclude(status="removed")
            .order_by("reference")
            .values_list("payee_name", "payee_account", "payee_bank", "amount", "id_number", "reference")
        )
        row = 0
        for row, (name, account, bank, amount, id_number, reference) in enumerate(lines.iterator(chunk_size=5000), 1):
            detail.write_number(row, 0, row)
            _text(detail, row, 1, name, plain, guarded)
            _text(detail, row, 2, account, plain, guarded)
            _text(detail, row, 3, bank, plain, guarded)
            detail.write_number(row, 4, float(amount), money)
            _text(detail, row, 5, id_number, plain, guarded)
            _text(detail, row, 6, batch.purpose, plain, guarded)
            _text(detail, row, 7, reference, plain, guarded)
        detail.set_landscape()
        detail.repeat_rows(0)
        detail.fit_to_pages(1, 0)

        summary = workbook.add_worksheet("汇总")
        summary.set_column(0, 0, 18)
        summary.set_column(1, 3, 24)
        totals = batch.lines.exclude(status="removed").aggregate(n=Count("pk"), total=Sum("amount"))
        total = totals["total"] or 0
        label = workbook.add_format({"bold": True})
        rows = [
            ("批次号", batch.number),
            ("笔数", totals["n"]),
            ("金额合计（小写）", total),
            ("金额合计（大写）", amount_in_words(total)),
            ("摘要", batch.purpose),
            ("制单人", batch.created_by.display_name if batch.created_by else ""),
            ("复核人", batch.reviewed_by.display_name if batch.reviewed_by else ""),
            ("导出时间", stamp.strftime("%Y-%m-%d %H:%M")),
        ]
        for r, (key, value) in enumerate(rows):
            summary.write_string(r, 0, key, label)
            if key == "金额合计（小写）":
                summary.write_number(r, 1, float(value), money)
            elif isinstance(value, int):
                summary.write_number(r, 1, value)
            else:
                _text(summary, r, 1, str(value), plain, guarded)
        r = len(rows) + 1
        for col, title in enumerate(["乡镇（街道）", "笔数", "金额（元）"]):
            summary.write_string(r, col, title, bold)
        by_township = (
            batch.lines.exclude(status="removed")
            .values_list("township__name")
            .annotate(n=Count("pk"), total=Sum("amount"))
            .order_by("township__name")
        )
        for name, n, subtotal in by_township:
            r += 1
            _text(summary, r, 0, name, plain, guarded)
            summary.write_number(r, 1, n)
            summary.write_number(r, 2, float(subtotal), money)
        summary.set_portrait()
        workbook.close()
        return _reproducible(path)
    finally:
        os.unlink(path)
