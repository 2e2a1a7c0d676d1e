"""Settlement CSVs on PostgreSQL, read in batches and checked column by column (the bulk path).

A platform extract is a plain CSV: no quotes, and every cell in its plain form (an ISO date, an amount such as
1234.50, an 18-character ID, text without padding). Each batch of lines is split into columns and each column
is tested whole: dates, visit types, flags and IDs by their distinct values (an ID's check digit once per
person), amounts by one regular expression over the column, text by lengths, padding and control characters.
The row rules then run column-wise over the plain rows: ISO dates compare as text, amounts as floats (exact
here, see `_over`). Only lines that are not plain or that break a rule go through the row-by-row reference,
`checks.check_record`, so the report is the Python checks' own: same rows, columns, values and messages, and
a test compares both on random faulty files.

Clean rows go to PostgreSQL in one COPY, straight into settlements_settlement when no stored settlement number
sorts at or above the file's first numbers (a new month's extract) — the primary key then also catches a number
repeated in the file — and otherwise into the typed stage that the importer merges. Anything unexpected
part-way (a bad row, a clash on the key) rolls the direct COPY back and the file is read again into the stage:
the report and the result never depend on the way taken.

Memory does not grow with the file: one batch is decoded at a time, and the pages of a memory-mapped file are
released once read (lib.filemap).
"""

import datetime
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import add, eq, gt, lt, mul, not_, sub

import psycopg
from django.db import transaction
from psycopg.copy import QueuedLibpqWriter

from lib import errors as bounds
from lib.errors import ErrorReport, count_kinds
from lib.filemap import release
from lib.tabular import Table, TableError, TableLimits, clean_header, iter_records
from recipients.idnumber import IdCells

from . import checks as C
from .sql import STAGE_COLUMNS, STAGE_DDL, copy_line

BATCH_BYTES = 8 << 20
NULL = "\\N"
BOM = b"\xef\xbb\xbf"
MSG_BOM = "CSV 文件标明为 UTF-8，但其中有无法识别的字符，请重新保存为 UTF-8"
MSG_ENCODING = "无法识别 CSV 文件编码：请保存为 UTF-8 或 GB18030（Excel 默认的“CSV（逗号分隔）”）"

TEXT_LIMITS = {C.COL_NUMBER: 50, C.COL_NAME: 50, C.COL_HOSPITAL: 100, C.COL_DIAGNOSIS: 200}
DATES = (C.COL_ADMITTED, C.COL_DISCHARGED, C.COL_VISIT, C.COL_SETTLED)
MONEY = (C.COL_TOTAL, C.COL_IN_POLICY, C.COL_BASIC, C.COL_CRITICAL, C.COL_OTHER, C.COL_ONESTOP)
REQUIRED_MONEY = (C.COL_TOTAL, C.COL_IN_POLICY, C.COL_BASIC)
# Control characters, tab and backslash (COPY would need them escaped): such a cell goes row by row.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")
# Valid ISO dates from year 1000 (29 February goes row by row).
_DATE = re.compile(
    r"[1-9][0-9]{3}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_AMOUNT = r"[0-9]{1,12}(?:\.[0-9]{1,2})?"  # at most C.MONEY_LIMIT, never negative
_AMOUNT_CELL = re.compile(_AMOUNT)
_AMOUNTS = re.compile(rf"(?:{_AMOUNT}\n)*+{_AMOUNT}")
_AMOUNTS_OR_EMPTY = re.compile(rf"(?:(?:{_AMOUNT})?\n)*+(?:{_AMOUNT})?")
_ID = re.compile(r"[0-9]{17}[0-9X]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_DIGITS = "10X98765432"
# Bytes other than control characters (line ends aside) and backslash: a batch holding only these needs no
# search for them cell by cell. (A GB18030 character may hold a backslash byte: then the cells are searched.)
_SAFE_BYTES = bytes(b for b in range(256) if not ((b < 0x20 and b not in (0x0A, 0x0D)) or b in (0x5C, 0x7F)))
_FLAGS = {"": None, "是": True, "否": False}
_REMOTE_OUT = {"是": "t", "否": "f", "": NULL}
_MAJOR_OUT = {"是": "t", "否": "f", "": "f"}
_VISIT_TYPES = frozenset(C.VISIT_TYPES)
_KNOWN_IDS_KEPT = 1_000_000  # the cache of checked IDs is cleared past this (memory stays bounded)


class NotForBulk(Exception):
    """The file needs another path: `route` is "sql" (quoted cells: sql.check_raw) or "python" (checks.py)."""

    def __init__(self, route: str, reason: str):
        super().__init__(reason)
        self.route = route


class _Restart(Exception):
    """Stop writing straight into the table: read the file again into the stage."""


class _Encoding(Exception):
    def __init__(self, encoding: str):
        self.encoding = encoding


@dataclass
class BulkResult:
    total_rows: int = 0
    errors: list = field(default_factory=list)
    direct: bool = False  # written straight into settlements_settlement (else into settle_stage)
    ids: Counter = field(default_factory=Counter)  # clean rows by ID number


def check_and_copy(cursor, content, *, today: datetime.date, import_id: int | None, direct: bool) -> BulkResult:
    """Check a CSV; COPY its clean rows into settlements_settlement (`direct`, when nothing stored can clash)
    or into settle_stage. Rows are written only when the file has no error. `content` is bytes or an mmap."""
    encoding = "utf-8"
    while True:
        try:
            if direct:
                try:
                    with transaction.atomic():  # a savepoint: a direct COPY given up leaves nothing behind
                        return _Run(cursor, content, today, encoding, import_id).run(direct=True)
                except (_Restart, psycopg.errors.IntegrityError):
                    direct = False
            with transaction.atomic():
                return _Run(cursor, content, today, encoding, import_id).run(direct=False)
        except _Encoding as exc:
            encoding = exc.encoding
        except psycopg.errors.DataError as exc:  # a value PostgreSQL refuses: let the reference check say why
            raise NotForBulk("python", str(exc)) from None


def people(cursor, ids: Counter) -> tuple[int, list[int]]:
    """(rows of people not in the registry, ids of registered people) for the file's rows counted by ID."""
    cursor.execute("CREATE TEMP TABLE settle_ids (id_number varchar(18) NOT NULL, n integer NOT NULL) ON COMMIT DROP")
    with cursor.cursor.copy("COPY settle_ids FROM STDIN") as copy:
        copy.write("".join(f"{number}\t{n}\n" for number, n in ids.items()))
    cursor.execute(
        "SELECT coalesce(sum(s.n) FILTER (WHERE p.id IS NULL), 0), array_remove(array_agg(p.id), NULL) "
        "FROM settle_ids s LEFT JOIN recipients_person p ON p.id_number = s.id_number"
    )
    unregistered, person_ids = cursor.fetchone()
    cursor.execute("DROP TABLE settle_ids")
    return unregistered, list(person_ids or [])


# Sums of at most four amounts of whole cents below 10^12, computed in floats, are within 1.5e-3 of the exact
# sums, and two different exact sums differ by at least 0.01: a float difference above this margin is a real one.
_MARGIN = 0.005


def _over(a: float, b: float) -> bool:
    """a > b for such sums."""
    return a - b > _MARGIN


class _Run:
    """One reading of the file, into the table or the stage."""

    def __init__(self, cursor, content, today, encoding, import_id):
        self.cursor, self.content, self.today = cursor, content, today
        self.today_s = today.isoformat()
        self.encoding = encoding
        self.bom = content[:3] == BOM
        self.tail = "" if import_id is None else f"\t{import_id}"
        self.limits = TableLimits.from_settings()
        self.check = C.SettlementCheck()  # the odd rows' errors: the first bounds.ERRORS_KEPT, in report order
        self.counts: Counter = Counter()  # every error by (column, reason)
        self.total = 0
        self.ids: Counter = Counter()
        self.known: dict[str, bool] = {}  # plain ID cells checked so far
        self.id_cells = IdCells(today=today)
        self.first_number = None  # the smallest plain number of the first batch
        self.latest: dict[str, str] = {}  # per date column, the batch's latest date

    # --- reading ---------------------------------------------------------------------------------

    def _decode(self, data: bytes) -> str:
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError:
            if self.bom:
                raise TableError(MSG_BOM) from None
            if self.encoding == "utf-8":
                raise _Encoding("gb18030") from None
            raise TableError(MSG_ENCODING) from None

    def _header(self) -> int:
        """Read the header; returns where the data begins."""
        content, start = self.content, 3 if self.bom else 0
        end = content.find(b"\n", start)
        if end <= start:
            raise NotForBulk("python", "no data line")
        text = self._decode(content[start:end].rstrip(b"\r"))
        if not text.strip(" ,\t") or '"' in text or "\r" in text:
            raise NotForBulk("python", "blank or quoted header")
        self.headers = [clean_header(h) for h in text.split(",")]
        if len(self.headers) > self.limits.max_columns:
            raise NotForBulk("python", "too many columns")
        return end + 1

    def _batches(self, start: int):
        """(number of the batch's first line, its lines), the header being line 1."""
        content, n, line = self.content, len(self.content), 2
        while start < n:
            stop = min(start + BATCH_BYTES, n)
            if stop < n:
                cut = content.rfind(b"\n", start, stop)
                if cut < 0:
                    cut = content.find(b"\n", stop)
                stop = n if cut < 0 else cut + 1
            data = content[start:stop]
            self.unsafe = bool(data.translate(None, _SAFE_BYTES))
            text = self._decode(data)
            release(content, stop)
            if '"' in text:
                raise NotForBulk("sql", "quoted cells")
            crlf = text.count("\r\n")
            if crlf and crlf == text.count("\n") == text.count("\r"):  # Windows line ends only
                lines = text.split("\r\n")
            else:
                if crlf:
                    text = text.replace("\r\n", "\n")
                if "\r" in text:
                    raise NotForBulk("python", "carriage return inside a line")
                lines = text.split("\n")
            if lines[-1] == "":
                lines.pop()
            yield line, lines
            line += len(lines)
            start = stop

    # --- the run ------------------------------------------------------------------------------

    def run(self, *, direct: bool) -> BulkResult:
        start = self._header()
        columns = C.check_header(self.headers, self.check)
        if columns is None:
            return BulkResult(errors=self.check.errors)
        self.columns = columns
        batches = self._batches(start)
        first = next(batches, None)
        text = self._batch(*first, stage=not direct) if first else ""
        cursor = self.cursor
        if direct:
            if self.check.errors or not self.first_number:
                raise _Restart
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM settlements_settlement WHERE number >= %s)", [self.first_number]
            )
            if cursor.fetchone()[0]:
                raise _Restart
            statement = (
                f"COPY settlements_settlement ({STAGE_COLUMNS}{', last_import_id' if self.tail else ''}) FROM STDIN"
            )
        else:
            cursor.execute(STAGE_DDL)
            statement = f"COPY settle_stage (row_no, {STAGE_COLUMNS}) FROM STDIN"
        raw = cursor.cursor
        with raw.copy(statement, writer=QueuedLibpqWriter(raw)) as copy:
            if text:
                copy.write(text)
            for line, lines in batches:
                text = self._batch(line, lines, stage=not direct)
                if direct and self.check.errors:
                    raise _Restart
                if text:
                    copy.write(text)
        if self.total == 0:
            return BulkResult(errors=[C.make_error(None, "", "", "文件中没有数据行")])
        if not direct:
            self._duplicates()
        if self.check.errors:
            kept = C.sort_errors(self.check.errors)[: bounds.ERRORS_KEPT]
            report = ErrorReport(kept, total=sum(self.counts.values()), kinds=count_kinds([], self.counts))
            return BulkResult(total_rows=self.total, errors=report)
        return BulkResult(total_rows=self.total, direct=direct, ids=self.ids)

    def _duplicates(self) -> None:
        """A number repeated among the clean rows: each later row is an error (as checks.py reports it)."""
        found = """
            SELECT row_no, number, first_row FROM (
                SELECT row_no, number, min(row_no) OVER (PARTITION BY number) AS first_row FROM settle_stage
                WHERE number IN (SELECT number FROM settle_stage GROUP BY number HAVING count(*) > 1)
            ) d WHERE row_no > first_row
        """
        self.cursor.execute(f"SELECT count(*) FROM ({found}) n")
        (n,) = self.cursor.fetchone()
        if n:
            self.counts[(C.COL_NUMBER, C.MSG["duplicate"].format(row=0))] += n
            self.cursor.execute(f"{found} ORDER BY row_no LIMIT {bounds.ERRORS_KEPT}")
            for row_no, number, first_row in self.cursor.fetchall():
                self.check.error(row_no, C.COL_NUMBER, number, C.MSG["duplicate"].format(row=first_row))

    # --- one batch -------------------------------------------------------------------------------

    def _batch(self, line: int, lines: list[str], *, stage: bool) -> str:
        """Check a batch; returns its clean rows as COPY text (in stage form or table form)."""
        width = len(self.headers)
        read = lines
        plain = [c == width - 1 for c in map(str.count, lines, repeat(","))]
        numbers = list(range(line, line + len(lines)))  # the rows' numbers in the file
        odd = [] if all(plain) else list(compress(numbers, [not p for p in plain]))
        if odd:
            lines, numbers = list(compress(lines, plain)), list(compress(numbers, plain))
        flat = ",".join(lines).split(",") if lines else []
        cols = {name: flat[k::width] for name, k in self.columns.items()}
        for test in (self._bad_cells, self._broken_rules):
            bad = test(cols, len(numbers)) if numbers else []
            if bad:
                keep = [True] * len(numbers)
                for i in bad:
                    keep[i] = False
                odd += [numbers[i] for i in bad]
                numbers = list(compress(numbers, keep))
                cols = {name: list(compress(col, keep)) for name, col in cols.items()}
        self.total += len(numbers)
        if line == 2 and numbers:
            self.first_number = min(cols[C.COL_NUMBER])
        out = self._rows(cols, numbers, stage) if numbers else ""
        if odd:
            out += self._odd(sorted(odd), read, line, stage)
        return out

    def _odd(self, rows: list[int], lines: list[str], line: int, stage: bool) -> str:
        """The rows that are not plain, through the reference checks one by one."""
        out = []
        for row_no in rows:
            cells = lines[row_no - line].split(",")
            if len(cells) > self.limits.max_columns:
                raise NotForBulk("python", "too many cells")  # the reference refuses the file, with its message
            table = Table(headers=self.headers, rows=[cells], first_row_number=row_no)
            for number, rec in iter_records(table, self.columns, key=C.COL_NUMBER):
                self.total += 1
                before = len(self.check.errors)
                row = C.check_record(number, rec, self.check, today=self.today, id_cells=self.id_cells)
                for error in self.check.errors[before:]:
                    self.counts[(error["column"], error["reason"])] += 1
                if row is not None:
                    self.ids[row.id_number] += 1
                    out.append(copy_line(row, row_no=stage, tail="" if stage else self.tail))
        if len(self.check.errors) > 2 * bounds.ERRORS_KEPT:  # later batches hold later rows: these stay the first
            self.check.errors = C.sort_errors(self.check.errors)[: bounds.ERRORS_KEPT]
        return "".join(out)

    def _bad_cells(self, cols: dict, n: int) -> list[int]:
        bad: set[int] = set()
        for name, col in cols.items():
            if name in TEXT_LIMITS:
                limit, required = TEXT_LIMITS[name], name != C.COL_DIAGNOSIS
                if (
                    (required and "" in col)
                    or max(map(len, col), default=0) > limit
                    or list(map(str.strip, col)) != col
                    or (self.unsafe and _UNSAFE.search("".join(col)))
                ):
                    bad.update(
                        i
                        for i, v in enumerate(col)
                        if (required and not v) or len(v) > limit or v != v.strip() or _UNSAFE.search(v)
                    )
            elif name == C.COL_ID:
                distinct = set(col)
                for value in distinct.difference(self.known):
                    self.known[value] = self._plain_id(value)
                if not all(map(self.known.__getitem__, distinct)):
                    bad.update(i for i, v in enumerate(col) if not self.known[v])
                if len(self.known) > _KNOWN_IDS_KEPT:
                    self.known.clear()
            elif name == C.COL_VISIT_TYPE:
                if not _VISIT_TYPES.issuperset(col):
                    bad.update(i for i, v in enumerate(col) if v not in _VISIT_TYPES)
            elif name in (C.COL_REMOTE, C.COL_MAJOR):
                if not _FLAGS.keys() >= set(col):
                    bad.update(i for i, v in enumerate(col) if v not in _FLAGS)
            elif name in DATES:
                distinct = set(col)
                self.latest[name] = max(distinct, default="")
                odd_dates = {v for v in distinct if not (_DATE.fullmatch(v) or (v == "" and name != C.COL_SETTLED))}
                if odd_dates:
                    bad.update(i for i, v in enumerate(col) if v in odd_dates)
            elif name in MONEY:
                pattern = _AMOUNTS if name in REQUIRED_MONEY else _AMOUNTS_OR_EMPTY
                if n and not pattern.fullmatch("\n".join(col)):
                    required = name in REQUIRED_MONEY
                    bad.update(
                        i for i, v in enumerate(col) if not (_AMOUNT_CELL.fullmatch(v) or (v == "" and not required))
                    )
        return sorted(bad)

    def _plain_id(self, value: str) -> bool:
        """Whether parse_id_number takes the cell as it is (18 characters already in their plain form): the
        same birth-date and check-digit rules (ISO 7064 MOD 11-2), without its normalising."""
        if not _ID.fullmatch(value):
            return False
        try:
            born = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        except ValueError:
            return False
        if born > self.today or born.year < 1890:
            return False
        return _CHECK_DIGITS[sum(map(mul, map(int, value[:17]), _ID_WEIGHTS)) % 11] == value[17]

    def _broken_rules(self, cols: dict, n: int) -> list[int]:
        """Rows of plain cells that break a row rule (they go row by row for the message)."""
        empty = [""] * n
        vt = cols[C.COL_VISIT_TYPE]
        admitted, discharged, visit = (
            cols.get(name, empty) for name in (C.COL_ADMITTED, C.COL_DISCHARGED, C.COL_VISIT)
        )
        settled = cols[C.COL_SETTLED]
        bad = set()
        for name in DATES:
            col = cols.get(name)
            if col and self.latest[name] > self.today_s:  # (the batch's latest, before any row was set aside)
                bad.update(i for i, v in enumerate(col) if v > self.today_s)
        stay = list(map(eq, vt, repeat(C.INPATIENT)))
        visits = list(map(not_, stay))
        a, d, s_in = (list(compress(col, stay)) for col in (admitted, discharged, settled))
        x, s_out = (list(compress(col, visits)) for col in (visit, settled))
        if "" in a or "" in d or any(map(gt, a, d)) or any(map(lt, s_in, a)) or "" in x or any(map(lt, s_out, x)):
            bad.update(
                i
                for i, (v, a, d, s, x) in enumerate(zip(vt, admitted, discharged, settled, visit, strict=True))
                if ((not a or not d or a > d or s < a) if v == C.INPATIENT else (not x or s < x))
            )
        t, p, paid = (list(map(float, cols[name])) for name in REQUIRED_MONEY)
        for name in MONEY[3:]:
            if name in cols:
                paid = list(map(add, paid, map(float, [v or "0" for v in cols[name]])))
        if any(map(gt, p, t)):  # exact: both are the floats nearest to whole cents below 10^12
            bad.update(i for i, (x, y) in enumerate(zip(p, t, strict=True)) if x > y)
        if any(map(gt, map(sub, paid, t), repeat(_MARGIN))):
            bad.update(i for i, (x, y) in enumerate(zip(paid, t, strict=True)) if _over(x, y))
        return sorted(bad)

    def _rows(self, cols: dict, numbers: list[int], stage: bool) -> str:
        n = len(numbers)
        self.ids.update(cols[C.COL_ID])
        vt = cols[C.COL_VISIT_TYPE]
        inpatient = [v == C.INPATIENT for v in vt]
        empty = [""] * n
        admitted, discharged, visit = (
            cols.get(name, empty) for name in (C.COL_ADMITTED, C.COL_DISCHARGED, C.COL_VISIT)
        )
        out = [
            cols[C.COL_NUMBER],
            cols[C.COL_ID],
            cols[C.COL_NAME],
            cols[C.COL_HOSPITAL],
            vt,
            [a if i else NULL for i, a in zip(inpatient, admitted, strict=True)],
            [d if i else NULL for i, d in zip(inpatient, discharged, strict=True)],
            [NULL if i else x for i, x in zip(inpatient, visit, strict=True)],
            [d if i else x for i, d, x in zip(inpatient, discharged, visit, strict=True)],
            cols[C.COL_SETTLED],
            *(cols[name] for name in REQUIRED_MONEY),
            *([v or "0" for v in cols[name]] if name in cols else ["0"] * n for name in MONEY[3:]),
            list(map(_REMOTE_OUT.__getitem__, cols[C.COL_REMOTE])) if C.COL_REMOTE in cols else [NULL] * n,
            cols.get(C.COL_DIAGNOSIS, empty),
            list(map(_MAJOR_OUT.__getitem__, cols[C.COL_MAJOR])) if C.COL_MAJOR in cols else ["f"] * n,
        ]
        if stage:
            out.insert(0, list(map(str, numbers)))
        end = ("" if stage else self.tail) + "\n"
        return end.join(map("\t".join, zip(*out, strict=True))) + end
