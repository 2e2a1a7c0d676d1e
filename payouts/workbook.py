"""What the bank file and the public notice share: a constant-memory XlsxWriter workbook whose bytes depend only on
the batch, text cells that cannot run as formulas, A4 page set-up, and the measures of printed text.

Reproducible bytes: the document times are one of the batch's own times and the zip entries are re-packed with a
fixed timestamp, order and mode, so the same batch always gives the same file.
"""

import contextlib
import datetime
import io
import math
import os
import tempfile
import unicodedata
import zipfile

import xlsxwriter
from django.utils import timezone

from lib.spreadsheet import FORMULA_STARTS

from .models import PayoutBatch

FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
A4 = 9  # XlsxWriter's paper index
A4_HEIGHT = 841.89  # points
PAGE_NUMBERS = "第 &P 页 共 &N 页"
LINE_HEIGHT = 15  # points: one line of 11-point text


@contextlib.contextmanager
def batch_workbook(batch: PayoutBatch, title: str, stamp: datetime.datetime):
    """A constant-memory workbook in a temporary file; yields (workbook, result) where result() closes it and returns
    the reproducible bytes. `stamp` (naive local time) is the document's creation time."""
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    workbook = xlsxwriter.Workbook(
        path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    workbook.set_properties({"title": title, "author": "医疗救助经办管理系统", "created": stamp})

    def result() -> bytes:
        workbook.close()
        return reproducible(path)

    try:
        yield workbook, result
    finally:
        os.unlink(path)


def export_stamp(batch: PayoutBatch) -> datetime.datetime:
    """The batch's first export time (recorded once), or before any export its review or creation time."""
    return timezone.localtime(batch.exported_at or batch.reviewed_at or batch.created_at).replace(tzinfo=None)


def reproducible(path: str) -> bytes:
    """Re-zip with fixed entry times, order and mode: XlsxWriter takes the temporary files' times and modes."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in sorted(source.infolist(), key=lambda i: i.filename):
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            # Streamed: the worksheet of a 100,000-line batch is tens of MB uncompressed.
            with source.open(info) as reader, target.open(entry, "w") as writer:
                while chunk := reader.read(1 << 20):
                    writer.write(chunk)
    return out.getvalue()


class TextFormats:
    """A text format and its twin with the quote prefix, for values a spreadsheet could take for a formula."""

    def __init__(self, workbook, **properties):
        self.plain = workbook.add_format({"num_format": "@", **properties})
        self.guarded = workbook.add_format({"num_format": "@", "quote_prefix": True, **properties})

    def write(self, sheet, row: int, col: int, value: str | None) -> None:
        value = value or ""
        sheet.write_string(row, col, value, self.guarded if value.startswith(FORMULA_STARTS) else self.plain)

    def merge(self, sheet, row: int, first: int, last: int, value: str | None) -> None:
        value = value or ""
        sheet.merge_range(
            row, first, row, last, value, self.guarded if value.startswith(FORMULA_STARTS) else self.plain
        )


def a4(sheet, *, landscape: bool, margins: tuple[float, float, float, float] = (0.5, 0.5, 0.6, 0.6)) -> None:
    """A4, one page wide (as many pages tall as needed), centred."""
    sheet.set_paper(A4)
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.center_horizontally()
    left, right, top, bottom = margins
    sheet.set_margins(left=left, right=right, top=top, bottom=bottom)


def page_starts(lines: int, first: int, per_page: int, closing: int, keep: int = 3) -> list[int]:
    """The lines (1-based) that start a new page when the first page holds `first` lines, the others `per_page`,
    and the `closing` rows after the last line (total row, signature) must stay on the last line's page with at
    least `keep` lines above them. Excel allows 1,023 manual breaks: past that, none (the page flows)."""
    starts, start, room = [], 1, first
    while lines - start + 1 > room:
        start += room
        starts.append(start)
        room = per_page
    left = lines - start + 1
    if starts and left < keep:  # too few lines on the last page: it takes some from the page before
        starts[-1] = max(lines - keep + 1, (starts[-2] if len(starts) > 1 else 1) + 1)
    elif left + closing > room and left > keep:  # the closing rows do not fit: the last lines go over with them
        starts.append(lines - keep + 1)
    return starts if len(starts) <= 1023 else []


def header_text(value: str) -> str:
    """Text placed in a page header or footer: `&` starts a control code there."""
    return value.replace("&", "&&")


def display_width(text: str) -> int:
    """Width in column units: a Chinese character takes two, a digit or Latin letter one."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def lines_needed(text: str, width: float) -> int:
    """Lines a wrapped value takes in a column `width` units wide (one unit of padding)."""
    if len(text) * 2 <= width - 1:  # the common case without looking at each character
        return 1
    return max(1, math.ceil(display_width(text) / (width - 1)))


def cn_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def money_text(amount) -> str:
    return f"{amount:,.2f}"
