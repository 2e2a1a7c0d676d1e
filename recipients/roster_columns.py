"""A roster's rows read a column at a time, for the rows whose cells are all plain (roster.py).

A roster repeats its categories, dates, townships, banks and sources on every row: each distinct cell of those
columns is read once, by the reference's own functions. ID numbers, names, phones and accounts differ from row
to row: they are tested by cheaper plain forms (an ID of 18 ASCII characters with its birth date and check digit
right, text already trimmed). A row with any cell that is not plain, or that breaks a row rule, is left to the
row-by-row reference (roster_rows.check_row, None here), so that the report is always the reference's; a file
that may hold control characters is read row by row whole. A test compares both readings on random faulty files.
"""

import datetime
import re

from stdnum.cn import ric

from lib.tabular import CellError, cell_date, cell_text

from .categories import parse_category, parse_source
from .roster_rows import (
    ACCOUNT_RE,
    COL_ACCOUNT,
    COL_BANK,
    COL_CATEGORY,
    COL_FROM,
    COL_ID,
    COL_NAME,
    COL_PHONE,
    COL_SOURCE,
    COL_TO,
    COL_TOWNSHIP,
    COL_VILLAGE,
    NAME_MAX,
    PHONE_RE,
    RosterRow,
    RowContext,
)

BATCH = 5000  # rows read together (and the import's progress is reported after each batch)
_BAD = object()  # a cell left to the reference
_ID = re.compile(r"[0-9]{17}[0-9X]")


class ColumnReader:
    """The rows of one file, batch by batch; distinct cells are remembered across batches."""

    def __init__(self, ctx: RowContext):
        self.ctx = ctx
        self.ids: dict = {}
        self.births: dict = {}
        self.categories: dict = {}
        self.starts: dict = {}
        self.ends: dict = {}
        self.townships: dict = {}
        self.banks: dict = {}
        self.sources: dict = {}

    def read(self, batch: list[tuple[int, list]]) -> list[RosterRow | None]:
        """Each row's RosterRow when every cell is plain and no rule is broken, else None. `batch` holds rows as
        lib.tabular.iter_rows gives them."""
        ctx, n = self.ctx, len(batch)
        if ctx.controls:
            return [None] * n
        # The batch's columns (a row is at least as wide as the header: zip stops at the narrowest).
        every = list(zip(*(row for _, row in batch), strict=False))

        def column(name):
            return every[ctx.columns[name]] if name in ctx.columns else None

        raw_ids = column(COL_ID)
        if not all(type(v) is str for v in raw_ids):
            return [None] * n  # an .xlsx's numbers and dates, or cells missing from short rows: row by row
        bad: set[int] = set()
        ids = _distinct(self.ids, raw_ids, self._id, bad)
        names = _texts(column(COL_NAME), bad)
        if _BAD in names or "" in names or max(map(len, names)) > NAME_MAX:
            bad.update(i for i, name in enumerate(names) if name is not _BAD and (not name or len(name) > NAME_MAX))
        categories = _distinct(self.categories, column(COL_CATEGORY), _category, bad)
        starts = _distinct(self.starts, column(COL_FROM), _start, bad)
        raw_ends = column(COL_TO)
        ends = [None] * n if raw_ends is None else _distinct(self.ends, raw_ends, _end, bad)
        today = ctx.today
        for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
            if start is not _BAD and (start > today or (end is not None and end is not _BAD and end < start)):
                bad.add(i)
        townships = _distinct(self.townships, column(COL_TOWNSHIP), self._township, bad)
        raw_villages = column(COL_VILLAGE)
        villages = [None] * n
        if raw_villages is not None:
            lookup = ctx.villages.get
            for i, (township, value) in enumerate(zip(townships, _texts(raw_villages, bad), strict=True)):
                if value is _BAD or township is _BAD or not value:
                    continue
                villages[i] = lookup((township.id, value))
                if villages[i] is None:
                    bad.add(i)
        phones = _digits(column(COL_PHONE), PHONE_RE, bad, n)
        raw_banks = column(COL_BANK)
        banks = [""] * n if raw_banks is None else _distinct(self.banks, raw_banks, _bank, bad)
        accounts = _digits(column(COL_ACCOUNT), ACCOUNT_RE, bad, n, spaces=False)
        raw_sources = column(COL_SOURCE)
        default = ctx.default_source
        sources = [None] * n if raw_sources is None else _distinct(self.sources, raw_sources, _source, bad)
        found = []
        columns = (raw_ids, ids, names, categories, sources, starts, ends, townships, villages, phones, banks, accounts)
        for i, ((row_no, _), number, info, name, category, source, start, end, township, village, phone, bank, account) in (
            enumerate(zip(batch, *columns, strict=True))
        ):  # fmt: skip
            if bad and i in bad:
                found.append(None)
                continue
            sex, born = info
            found.append(
                RosterRow(
                    row_no,
                    number,
                    name,
                    sex,
                    born,
                    category,
                    source or default,
                    start,
                    end,
                    township.id,
                    village,
                    phone,
                    bank,
                    account,
                )  # fmt: skip
            )
        return found

    def _id(self, value: str):
        """An ID already in its plain form (what parse_id_number takes unchanged), with its birth date and check
        digit right, as (sex, birth date); anything else goes to the reference."""
        if not _ID.fullmatch(value):
            return _BAD
        born = self.births.get(value[6:14])
        if born is None:
            try:
                born = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
            except ValueError:
                born = _BAD
            if born is not _BAD and (born > self.ctx.today or born.year < 1890):
                born = _BAD
            self.births[value[6:14]] = born
        if born is _BAD or ric.calc_check_digit(value) != value[17]:  # (the reference's own check digit)
            return _BAD
        return ("M" if value[16] in "13579" else "F", born)

    def _township(self, value: str):
        ctx, name = self.ctx, cell_text(value)
        if not name or name not in ctx.townships or ctx.township_names_seen[name] > 1:
            return _BAD
        found = ctx.townships[name]
        if ctx.township is not None and found.id != ctx.township.id:
            return _BAD
        return found


def _distinct(cache: dict, cells: list, read, bad: set[int]) -> list:
    """`read` of each distinct text cell once; any other cell, or a cell `read` refuses, marks its row bad."""
    for value in set(cells).difference(cache):
        cache[value] = read(value) if type(value) is str else _BAD
    found = list(map(cache.__getitem__, cells))
    if any(v is _BAD for v in found):
        bad.update(i for i, v in enumerate(found) if v is _BAD)
    return found


def _texts(cells: list, bad: set[int]) -> list:
    """Text cells trimmed, as cell_text reads them; any other cell marks its row bad."""
    if all(type(v) is str for v in cells):
        return list(map(str.strip, cells))
    found = [v.strip() if type(v) is str else _BAD for v in cells]
    bad.update(i for i, v in enumerate(found) if v is _BAD)
    return found


def _digits(cells: list | None, pattern: re.Pattern, bad: set[int], n: int, *, spaces: bool = True) -> list:
    """A phone or account as the reference reads it (cell_digits, then spaces dropped) when its text is ASCII
    and empty or of the pattern (a phone is matched with its spaces, an account without)."""
    if cells is None:
        return [""] * n
    found = []
    for i, value in enumerate(_texts(cells, bad)):
        if value is _BAD:
            found.append(value)
            continue
        plain = value.replace(" ", "")
        if value and (not value.isascii() or not pattern.match(value if spaces else plain)):
            bad.add(i)
        found.append(plain)
    return found


def _category(value: str):
    text = cell_text(value)
    found = parse_category(text) if text else None
    return _BAD if found is None else found


def _start(value: str):
    try:
        day = cell_date(value)
    except CellError:
        return _BAD
    return _BAD if day is None else day


def _end(value: str):
    try:
        return cell_date(value)
    except CellError:
        return _BAD


def _bank(value: str):
    name = cell_text(value)
    return _BAD if len(name) > 100 else name


def _source(value: str):
    text = cell_text(value)
    if not text:
        return None  # the import's source
    found = parse_source(text)
    return _BAD if found is None else found
