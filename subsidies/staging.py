"""An enrolment-result file (参保结果, DATA-FORMATS §9) into a temporary table of text cells, one row per data row
with its row number, so that its checks and its write are a few set-based statements.

On PostgreSQL a CSV whose header is its first line is COPY'd as it is (UTF-8, with or without BOM, or GB18030);
anything COPY refuses (ragged rows, a NUL byte), an .xlsx, and every file on other databases are read with
lib.tabular and staged row by row. Either way the stage holds the cells as text: checks parse each distinct
value once (subsidies.enrolment)."""

import datetime
import logging
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction

from lib.tabular import TableError, column_index, decode_csv, read_headers, read_table

logger = logging.getLogger(__name__)

COL_ID, COL_YEAR, COL_STATUS, COL_AMOUNT, COL_DATE = "身份证号", "参保年度", "参保状态", "缴费金额", "缴费日期"
HEADERS = [COL_ID, COL_YEAR, COL_STATUS, COL_AMOUNT, COL_DATE]
REQUIRED = [COL_ID, COL_YEAR, COL_STATUS]
ROLES = {COL_ID: "id", COL_YEAR: "year", COL_STATUS: "status", COL_AMOUNT: "amount", COL_DATE: "paid_on"}
STAGE = "enrolment_stage"


class StageError(ValueError):
    """The file as a whole cannot be read (no header, a required column missing); shown to the user."""


@dataclass
class Staged:
    """The staged file: how many data rows, and the stage's column of each of our columns (None: not in the
    file)."""

    rows: int = 0
    columns: dict[str, str | None] = field(default_factory=dict)
    path: str = ""  # "copy" or "rows"
    row_offset: int = 0  # the file's row number is n + row_offset

    @property
    def row(self) -> str:
        """The SQL of stage row `s`'s number in the file."""
        return f"s.n + {self.row_offset}" if self.row_offset else "s.n"

    def expr(self, role: str) -> str:
        """The SQL of a column's cell in stage row `s` ('' for an empty cell or a column the file lacks)."""
        column = self.columns.get(role)
        return f"COALESCE(s.{column}, '')" if column else "''"


def _create(cursor, width: int) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    cells = ", ".join(f"c{i} text" for i in range(width))
    serial = "n bigserial" if connection.vendor == "postgresql" else "n integer"
    cursor.execute(f"CREATE TEMP TABLE {STAGE} ({serial}, {cells})")


def _columns(headers: list[str]) -> tuple[dict[str, int], list[str]]:
    found, repeated = column_index(headers, HEADERS)
    if repeated:
        raise StageError("表头“" + "、".join(dict.fromkeys(repeated)) + "”出现了不止一次")
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise StageError("缺少必填列：" + "、".join(missing))
    return found, missing


def stage_file(content: bytes, file_name: str) -> Staged:
    """Read the file into the stage (replacing an earlier one of this connection). Inside a transaction."""
    try:
        headers = read_headers(content, file_name)
    except TableError as exc:
        raise StageError(str(exc)) from None
    found, _ = _columns(headers)
    if connection.vendor == "postgresql" and file_name.lower().endswith(".csv"):
        staged = _copy(bytes(content), headers, found)
        if staged is not None:
            return staged
    return _rows(content, file_name)


def _copy(content: bytes, headers: list[str], found: dict[str, int]) -> Staged | None:
    """COPY a CSV whose first line is the header; None when COPY cannot take it (then it is read row by row)."""
    if content.startswith(b"\xef\xbb\xbf"):
        content, encoding = content[3:], "UTF8"
    else:
        try:
            content.decode("utf-8")
            encoding = "UTF8"
        except UnicodeDecodeError:
            try:
                decode_csv(content)
            except TableError as exc:
                raise StageError(str(exc)) from None
            encoding = "GB18030"
    if not content.split(b"\n", 1)[0].strip(b"\r\n \t,"):
        return None  # blank lines above the header: COPY would take the header for data
    width = len(headers)
    names = ", ".join(f"c{i}" for i in range(width))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _create(cursor, width)
            sql = f"COPY {STAGE} ({names}) FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING '{encoding}')"
            with cursor.cursor.copy(sql) as copy:
                copy.write(content)
            blank = " AND ".join(f"COALESCE(TRIM(c{i}), '') = ''" for i in range(width))
            cursor.execute(f"DELETE FROM {STAGE} WHERE {blank}")
            cursor.execute(f"SELECT COUNT(*) FROM {STAGE}")
            (rows,) = cursor.fetchone()
    except DatabaseError as exc:
        logger.info("enrolment CSV not COPY'd, read row by row: %s", exc)
        return None
    columns = {role: None for role in ROLES.values()}
    for header, index in found.items():
        columns[ROLES[header]] = f"c{index}"
    # The sequence numbers the data rows from 1; in the file they are rows 2, 3 … (the header is row 1).
    return Staged(rows=rows, columns=columns, path="copy", row_offset=1)


def stage_text(value) -> str:
    """A cell as the stage keeps it: numbers as Python writes them (a float ID keeps its exponent, so that the
    check says it was shortened), dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _rows(content, file_name: str) -> Staged:
    try:
        table = read_table(bytes(content), file_name)
    except TableError as exc:
        raise StageError(str(exc)) from None
    found, _ = _columns(table.headers)
    order = [(ROLES[h], found.get(h)) for h in HEADERS]
    width = len(table.headers)
    batch, rows = [], 0
    with connection.cursor() as cursor:
        _create(cursor, len(HEADERS))
        for offset, row in enumerate(table.rows):
            cells = [stage_text(row[i]) if i is not None and i < len(row) else "" for _, i in order]
            if not any(c.strip() for c in cells) and not any(stage_text(c).strip() for c in row[:width]):
                continue
            batch.append([table.first_row_number + offset, *cells])
            rows += 1
            if len(batch) >= 5000:
                _insert(cursor, batch)
                batch = []
        if batch:
            _insert(cursor, batch)
    columns = {role: (f"c{n}" if index is not None else None) for n, (role, index) in enumerate(order)}
    return Staged(rows=rows, columns=columns, path="rows")


def _insert(cursor, batch: list[list]) -> None:
    names = ", ".join(f"c{i}" for i in range(len(HEADERS)))
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {STAGE} (n, {names}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * (len(HEADERS) + 1))
    cursor.executemany(f"INSERT INTO {STAGE} (n, {names}) VALUES ({marks})", batch)
