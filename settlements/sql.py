"""Settlement files on PostgreSQL: COPY into a staging table, check in SQL, merge in one statement.

A well-formed CSV goes straight from the file into `settle_raw` (one text column per header
column) with COPY, and one pass of SQL turns it into typed values plus, per cell, the reason it is
wrong (`settle_checked`). The rules and messages are those of `checks.py`; a test runs both on the
same files. Files the SQL path does not handle (control characters, blank lines, ragged rows, .xlsx)
are checked in Python and their clean rows are copied into the same typed stage.

Either way `settle_stage` ends up holding the file's clean rows, which `merge.py` compares with the
stored ones and writes (the bulk path, bulk.py, may also write a new month's rows straight into the table).
"""

import csv
import datetime
from collections import Counter
from dataclasses import dataclass

from lib.control import CONTROL_BYTES
from lib.errors import ERRORS_KEPT, ErrorReport, count_kinds
from lib.tabular import DATE_RANGE_MESSAGE, DATE_YEARS, TableError, clean_header

from . import checks as C

# Python's str.strip() whitespace, minus the control characters (files holding those go to Python).
_WS = " \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
# Non-ASCII whitespace (UTF-8) that Python's strip() removes.
_WIDE_SPACES = (b"\xc2\x85", b"\xc2\xa0", b"\xe1\x9a\x80", b"\xe2\x81\x9f", b"\xe3\x80\x80") + tuple(
    b"\xe2\x80" + bytes([c]) for c in [*range(0x80, 0x8B), 0xA8, 0xA9, 0xAF]
)


def _padded(data: bytes) -> bool:
    """Whether some cell may start or end with whitespace. Cheap searches first: most files have none."""
    if b"\t" in data or data[:1] == b" " or data[-1:] == b" ":
        return True
    if b" " in data and any(mark in data for mark in (b", ", b" ,", b"\n ", b" \n", b" \r")):
        return True
    if b"\xc2" in data and (b"\xc2\x85" in data or b"\xc2\xa0" in data):
        return True
    return any(mark in data for mark in _WIDE_SPACES[2:5]) or (
        b"\xe2\x80" in data and any(mark in data for mark in _WIDE_SPACES[5:])
    )


STAGE_DDL = """
CREATE TEMP TABLE settle_stage (
    row_no integer NOT NULL,
    number varchar(50) NOT NULL,
    id_number varchar(18) NOT NULL,
    name varchar(50) NOT NULL,
    hospital varchar(100) NOT NULL,
    visit_type varchar(10) NOT NULL,
    admitted_on date,
    discharged_on date,
    visit_on date,
    service_date date NOT NULL,
    settled_on date NOT NULL,
    total numeric(14, 2) NOT NULL,
    in_policy numeric(14, 2) NOT NULL,
    basic numeric(14, 2) NOT NULL,
    critical numeric(14, 2) NOT NULL,
    other numeric(14, 2) NOT NULL,
    onestop numeric(14, 2) NOT NULL,
    out_of_area boolean,
    diagnosis varchar(200) NOT NULL,
    major_disease boolean NOT NULL
) ON COMMIT DROP
"""

STAGE_COLUMNS = (
    "number, id_number, name, hospital, visit_type, admitted_on, discharged_on, visit_on, service_date, "
    "settled_on, total, in_policy, basic, critical, other, onestop, out_of_area, diagnosis, major_disease"
)


class NotForSql(Exception):
    """The file needs the Python checks (its shape is unusual); not an error in itself."""


@dataclass
class CsvSource:
    encoding: str  # PostgreSQL's name
    headers: list[str]
    data: bytes  # the records after the header line
    padded: bool  # some cell may start or end with whitespace: the checks must trim every cell


def prepare_csv(content: bytes) -> CsvSource:
    """Find the encoding and the header; raise NotForSql for files the SQL path does not take."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
        encoding = "UTF8"
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise TableError("CSV 文件标明为 UTF-8，但其中有无法识别的字符，请重新保存为 UTF-8") from None
    else:
        try:
            content.decode("utf-8")
            encoding = "UTF8"
        except UnicodeDecodeError:
            try:
                content.decode("gb18030")
            except UnicodeDecodeError:
                raise TableError(
                    "无法识别 CSV 文件编码：请保存为 UTF-8 或 GB18030（Excel 默认的“CSV（逗号分隔）”）"
                ) from None
            encoding = "GB18030"
    if CONTROL_BYTES.search(content):
        raise NotForSql("control characters")
    end = content.find(b"\n")
    if end <= 0:
        raise NotForSql("no data line")
    header_line = content[:end].rstrip(b"\r")
    data = content[end + 1 :].rstrip(b"\r\n")
    newline = b"\r\n" if content[end - 1 : end] == b"\r" else b"\n"
    # Blank lines are skipped by the Python reader but would be rows to COPY; mixed line ends
    # are refused by COPY. Both are rare in platform extracts: those files go to Python.
    if not data or b"\n\n" in data or b"\n\r\n" in data or (newline == b"\n" and b"\r" in data):
        raise NotForSql("blank lines or mixed line ends")
    header_text = header_line.decode("utf-8" if encoding == "UTF8" else "gb18030")
    if not header_text.strip(" ,\t"):
        raise NotForSql("blank first line")
    headers = [clean_header(h) for h in next(csv.reader([header_text]))]
    # Trimming every cell is the costliest part of the checks; most extracts need none.
    padded = encoding != "UTF8" or b'"' in data or _padded(data)
    return CsvSource(encoding=encoding, headers=headers, data=data, padded=padded)


def copy_raw(cursor, source: CsvSource) -> None:
    """COPY the records into settle_raw(line, c0 .. cN), numbered in file order."""
    columns = ", ".join(f"c{i} text" for i in range(len(source.headers)))
    cursor.execute("CREATE TEMP SEQUENCE settle_raw_line")
    cursor.execute(
        f"CREATE TEMP TABLE settle_raw (line integer NOT NULL DEFAULT nextval('settle_raw_line'), {columns})"
    )
    names = ", ".join(f"c{i}" for i in range(len(source.headers)))
    step = 1 << 20
    with cursor.copy(f"COPY settle_raw ({names}) FROM STDIN (FORMAT csv, ENCODING '{source.encoding}')") as copy:
        for start in range(0, len(source.data), step):
            copy.write(source.data[start : start + step])


def drop_raw(cursor) -> None:
    cursor.execute("DROP TABLE IF EXISTS settle_raw, settle_checked, settle_bad_ids")
    cursor.execute("DROP SEQUENCE IF EXISTS settle_raw_line")


# --- the checks in SQL --------------------------------------------------------------------------


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _trim(col: str) -> str:
    return f"btrim(coalesce({col}, ''), E{_lit(_WS + chr(9) + chr(10) + chr(13))})"


def _nfkc(expr: str) -> str:
    # normalize() only where needed: most cells are ASCII.
    return f"(CASE WHEN octet_length({expr}) = length({expr}) THEN {expr} ELSE normalize({expr}, NFKC) END)"


_DATE_PATTERN = (
    r"^([0-9]{4})(?:-([0-9]{1,2})-([0-9]{1,2})(?:[ T]00:00(?::00)?)?|/([0-9]{1,2})/([0-9]{1,2})(?: 0?0:00(?::00)?)?"
    r"|\.([0-9]{1,2})\.([0-9]{1,2})|([0-9]{2})([0-9]{2})|年([0-9]{1,2})月([0-9]{1,2})日)$"
)
_ISO = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_MONEY = r"^-?[0-9]+(\.[0-9]{1,2})?$"
_GROUPED = r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]{1,2})?$"  # lib.tabular.cell_money's thousands separators


def _valid_ymd(y: str, m: str, d: str) -> str:
    """Whether year, month and day make a date (Gregorian leap years), in integer arithmetic only."""
    leap = f"({y} % 4 = 0 AND ({y} % 100 <> 0 OR {y} % 400 = 0))"
    return (
        f"({y} >= 1 AND {d} >= 1 AND {d} <= CASE {m} WHEN 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
        f"WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 "
        f"WHEN 1 THEN 31 WHEN 3 THEN 31 WHEN 5 THEN 31 WHEN 7 THEN 31 WHEN 8 THEN 31 WHEN 10 THEN 31 "
        f"WHEN 12 THEN 31 ELSE 0 END)"
    )


def _checked_sql(columns: dict[str, int], n_columns: int, today: datetime.date, *, padded: bool) -> str:
    """One pass over settle_raw: typed values and, per cell, the reason it is wrong (NULL when fine)."""

    def raw(name: str) -> str:
        return f"c{columns[name]}" if name in columns else "NULL::text"

    text_columns = {
        C.COL_NUMBER: "number",
        C.COL_NAME: "name",
        C.COL_HOSPITAL: "hospital",
        C.COL_VISIT_TYPE: "vt",
        C.COL_REMOTE: "remote",
        C.COL_MAJOR: "major",
        C.COL_DIAGNOSIS: "diag",
        C.COL_ID: "id",
        **DATE_ALIASES,
        **MONEY_ALIASES,
    }

    def cell(name: str) -> str:
        return _trim(raw(name)) if padded else f"coalesce({raw(name)}, '')"

    # Layer 1: each cell once, trimmed when the file has cells that need it.
    layer1 = ["line"] + [f"{cell(name)} AS s_{alias}" for name, alias in text_columns.items()]
    every = ", ".join(f"c{i}" for i in range(n_columns))
    if padded:
        keep = f"{cell(C.COL_NUMBER)} <> '' OR {_trim(f'concat({every})')} <> ''"
    else:
        nonblank = ", ".join(f"nullif(c{i}, '')" for i in range(n_columns))
        keep = f"coalesce({raw(C.COL_NUMBER)}, '') <> '' OR num_nonnulls({nonblank}) > 0"
    sql1 = f"SELECT {', '.join(layer1)} FROM settle_raw WHERE {keep} OFFSET 0"

    # Layer 2: the forms the rules read (full-width characters folded where they may occur).
    layer2 = ["line"] + [f"s_{a} AS t_{a}" for a in ("number", "name", "hospital", "vt", "remote", "major", "diag")]
    layer2.append(f"upper(replace({_nfkc('s_id')}, ' ', '')) AS t_id")
    for alias in DATE_ALIASES.values():
        layer2.append(f"{_nfkc(f's_{alias}')} AS t_{alias}")
    for alias in MONEY_ALIASES.values():
        s_ = f"s_{alias}"
        layer2.append(f"{s_} ~ '{_MONEY}' AS ok_{alias}")
        bare = f"translate({_nfkc(s_)}, '¥￥', '')"  # a separator in the wrong place stays: not an amount
        layer2.append(
            f"CASE WHEN {s_} ~ '{_MONEY}' THEN {s_} WHEN {bare} ~ '{_GROUPED}' THEN replace({bare}, ',', '') "
            f"ELSE {bare} END AS t_{alias}"
        )
    sql2 = f"SELECT {', '.join(layer2)} FROM ({sql1}) l1 OFFSET 0"

    # Layer 3: dates matched, amounts read.
    mid = ["x.*"]
    for alias in DATE_ALIASES.values():
        t = f"t_{alias}"
        mid.append(
            f"CASE WHEN {t} = '' THEN NULL WHEN {t} ~ '{_ISO}' "
            f"THEN ARRAY[substr({t}, 1, 4), substr({t}, 6, 2), substr({t}, 9, 2)] "
            f"ELSE (SELECT ARRAY[m[1], coalesce(m[2], m[4], m[6], m[8], m[10]), coalesce(m[3], m[5], m[7], m[9], m[11])] "
            f"FROM regexp_match({t}, {_lit(_DATE_PATTERN)}) m) END AS m_{alias}"
        )
    for alias in MONEY_ALIASES.values():
        t = f"t_{alias}"
        mid.append(f"CASE WHEN ok_{alias} OR {t} ~ '{_MONEY}' THEN {t}::numeric END AS v_{alias}")
    mid_sql = f"SELECT {', '.join(mid)} FROM ({sql2}) x OFFSET 0"

    # Typed values and per-cell reasons.
    out = ["line"]
    out += [
        "t_number AS number",
        "t_name AS name",
        "t_hospital AS hospital",
        "t_diag AS diagnosis",
        "t_id AS id_number",
        "CASE WHEN t_vt IN ('门诊', '门诊慢特病', '住院') THEN t_vt END AS visit_type",
        "CASE t_remote WHEN '是' THEN true WHEN '否' THEN false END AS out_of_area",
        "coalesce(t_major = '是', false) AS major_disease",
    ]
    for name, alias, limit in (
        (C.COL_NUMBER, "number", 50),
        (C.COL_NAME, "name", 50),
        (C.COL_HOSPITAL, "hospital", 100),
    ):
        out.append(
            f"CASE WHEN t_{alias} = '' THEN {_lit(C.MSG['required'].format(column=name))} "
            f"WHEN length(t_{alias}) > {limit} THEN {_lit(C.MSG['too_long'].format(column=name, limit=limit))} "
            f"END AS e_{alias}"
        )
    out.append(
        f"CASE WHEN length(t_diag) > 200 THEN {_lit(C.MSG['too_long'].format(column=C.COL_DIAGNOSIS, limit=200))} "
        "END AS e_diag"
    )
    out.append(
        f"CASE WHEN t_vt = '' THEN {_lit(C.MSG['required'].format(column=C.COL_VISIT_TYPE))} "
        f"WHEN t_vt NOT IN ('门诊', '门诊慢特病', '住院') THEN {_lit(C.MSG['visit_type'])} END AS e_vt"
    )
    for alias in ("remote", "major"):
        out.append(f"CASE WHEN t_{alias} NOT IN ('', '是', '否') THEN {_lit(C.MSG['yes_no'])} END AS e_{alias}")
    for alias in DATE_ALIASES.values():
        m = f"m_{alias}"
        valid = _valid_ymd(f"{m}[1]::int", f"{m}[2]::int", f"{m}[3]::int")
        in_range = f"{m}[1]::int BETWEEN {DATE_YEARS[0]} AND {DATE_YEARS[1]}"
        out.append(
            f"CASE WHEN {m}[1] IS NOT NULL AND {valid} AND {in_range} "
            f"THEN make_date({m}[1]::int, {m}[2]::int, {m}[3]::int) END AS d_{alias}"
        )
        out.append(f"{m} IS NOT NULL AS p_{alias}")
        out.append(
            f"CASE WHEN {m} IS NULL THEN NULL "
            f"WHEN {m}[1] IS NULL THEN {_lit('日期格式不对，应为 2024-03-05、2024/3/5 或 20240305')} "
            f"WHEN NOT {valid} THEN {_lit('不是有效日期')} "
            f"WHEN NOT {in_range} THEN {_lit(DATE_RANGE_MESSAGE)} END AS e_{alias}"
        )
    for name, alias in MONEY_ALIASES.items():
        v = f"v_{alias}"
        required = name in (C.COL_TOTAL, C.COL_IN_POLICY, C.COL_BASIC)
        out.append(
            f"CASE WHEN t_{alias} = '' THEN {_lit(C.MSG['required'].format(column=name)) if required else 'NULL'} "
            f"WHEN {v} IS NULL THEN {_lit('金额格式不对，应为以元为单位、最多两位小数的数字')} "
            f"WHEN {v} < 0 THEN {_lit(C.MSG['negative'])} "
            f"WHEN {v} > {C.MONEY_LIMIT} THEN {_lit(C.MSG['too_large'])} END AS e_{alias}"
        )
        out.append(
            f"CASE WHEN t_{alias} = '' THEN {'NULL' if required else '0'} "
            f"WHEN {v} >= 0 AND {v} <= {C.MONEY_LIMIT} THEN {v} END AS a_{alias}"
        )
    typed_sql = f"SELECT {', '.join(out)} FROM ({mid_sql}) y"
    return f"CREATE TEMP TABLE settle_checked AS {typed_sql}"


DATE_ALIASES = {
    C.COL_ADMITTED: "admitted",
    C.COL_DISCHARGED: "discharged",
    C.COL_VISIT: "visit",
    C.COL_SETTLED: "settled",
}
MONEY_ALIASES = {
    C.COL_TOTAL: "total",
    C.COL_IN_POLICY: "in_policy",
    C.COL_BASIC: "basic",
    C.COL_CRITICAL: "critical",
    C.COL_OTHER: "other",
    C.COL_ONESTOP: "onestop",
}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_error(t: str, today: datetime.date) -> str:
    """The reason an ID is wrong, in the order parse_id_number checks (NULL when it is right)."""
    checksum = " + ".join(f"(ascii(substr({t}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(_ID_WEIGHTS))
    y, m, d = f"substr({t}, 7, 4)::int", f"substr({t}, 11, 2)::int", f"substr({t}, 13, 2)::int"
    return (
        f"CASE WHEN {t} = '' THEN '身份证号为空' "
        f"WHEN strpos({t}, 'E+') > 0 OR strpos({t}, 'E-') > 0 "
        f"THEN '身份证号被 Excel 显示为科学计数法，后几位已丢失，请把该列设置为文本后重新录入' "
        f"WHEN {t} ~ '^[0-9]{{15}}$' THEN '这是 15 位旧身份证号，请换成 18 位身份证号' "
        f"WHEN length({t}) <> 18 THEN '身份证号应为 18 位，实际为 ' || length({t}) || ' 位' "
        f"WHEN {t} !~ '^[0-9]{{17}}[0-9X]$' THEN '身份证号只能由数字组成，最后一位可以是 X' "
        f"WHEN NOT {_valid_ymd(y, m, d)} THEN '身份证号中的出生日期不是有效日期' "
        f"WHEN make_date({y}, {m}, {d}) > DATE {_lit(today.isoformat())} OR {y} < 1890 "
        f"THEN '身份证号中的出生日期不合理' "
        f"WHEN substr('10X98765432', ({checksum}) % 11 + 1, 1) <> substr({t}, 18, 1) "
        f"THEN '身份证号校验位错误（可能有数字录错）' END"
    )


# Row rules over typed values, each (column, condition, reason); same order as checks.check_record.
def _row_rules(today: datetime.date) -> list[tuple[str, str, str, str]]:
    future = []
    for name, alias in DATE_ALIASES.items():
        future.append(
            (name, f"d_{alias} > DATE {_lit(today.isoformat())}", C.MSG["future"], f"to_char(d_{alias}, 'YYYY-MM-DD')")
        )
    inpatient = "visit_type = '住院'"
    outpatient = "visit_type IN ('门诊', '门诊慢特病')"
    return future + [
        (C.COL_SETTLED, "NOT p_settled", C.MSG["required"].format(column=C.COL_SETTLED), "''"),
        (
            C.COL_ADMITTED,
            f"{inpatient} AND NOT p_admitted",
            C.MSG["stay_dates"],
            "''",
        ),
        (
            C.COL_DISCHARGED,
            f"{inpatient} AND p_admitted AND NOT p_discharged",
            C.MSG["stay_dates"],
            "''",
        ),
        (
            C.COL_ADMITTED,
            f"{inpatient} AND d_admitted > d_discharged",
            C.MSG["admitted_after_discharge"],
            "to_char(d_admitted, 'YYYY-MM-DD')",
        ),
        (
            C.COL_SETTLED,
            f"{inpatient} AND d_settled < d_admitted",
            C.MSG["settled_early"].format(what="入院日期"),
            "to_char(d_settled, 'YYYY-MM-DD')",
        ),
        (C.COL_VISIT, f"{outpatient} AND NOT p_visit", C.MSG["visit_date"], "''"),
        (
            C.COL_SETTLED,
            f"{outpatient} AND d_settled < d_visit",
            C.MSG["settled_early"].format(what="就诊日期"),
            "to_char(d_settled, 'YYYY-MM-DD')",
        ),
        (C.COL_IN_POLICY, "a_in_policy > a_total", C.MSG["in_policy_gt_total"], "a_in_policy::text"),
        (
            C.COL_TOTAL,
            "a_basic + a_critical + a_other + a_onestop > a_total",
            C.MSG["paid_gt_total"],
            "a_total::text",
        ),
    ]


CELL_ERRORS = [
    (C.COL_NUMBER, "e_number"),
    (C.COL_NAME, "e_name"),
    (C.COL_HOSPITAL, "e_hospital"),
    (C.COL_VISIT_TYPE, "e_vt"),
    (C.COL_DIAGNOSIS, "e_diag"),
    (C.COL_REMOTE, "e_remote"),
    (C.COL_MAJOR, "e_major"),
    *[(name, f"e_{alias}") for name, alias in DATE_ALIASES.items()],
    *[(name, f"e_{alias}") for name, alias in MONEY_ALIASES.items()],
]
RAW_VALUE_COLUMNS = {C.COL_ID} | set(DATE_ALIASES) | set(MONEY_ALIASES)


def check_raw(cursor, headers: list[str], *, today: datetime.date, padded: bool = True) -> tuple[int, list[dict]]:
    """Check settle_raw in SQL and fill settle_stage with its rows when there is no error.

    Returns (number of data rows, errors); the errors are those validate_settlements would report.
    """
    check = C.SettlementCheck()
    columns = C.check_header(headers, check)
    if columns is None:
        return 0, check.errors
    # Keep the trimmed texts and the date matches for the report: select them through.
    cursor.execute(_checked_sql(columns, len(headers), today, padded=padded))
    # An ID is checked once however many settlements carry it.
    cursor.execute(
        f"CREATE TEMP TABLE settle_bad_ids AS SELECT * FROM ("
        f"SELECT id_number, {_id_error('id_number', today)} AS e_id "
        f"FROM (SELECT DISTINCT id_number FROM settle_checked) d) i WHERE e_id IS NOT NULL"
    )
    rules = _row_rules(today)
    cell_bad = " OR ".join(f"{e} IS NOT NULL" for _, e in CELL_ERRORS)
    cell_bad += " OR id_number IN (SELECT id_number FROM settle_bad_ids)"
    row_bad = " OR ".join(f"({cond})" for _, cond, _, _ in rules)
    cursor.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {cell_bad} OR coalesce({row_bad}, false)) FROM settle_checked"
    )
    total, bad = cursor.fetchone()
    if total == 0:
        return 0, [C.make_error(None, "", "", "文件中没有数据行")]
    errors: list[dict] = []
    counts: Counter = Counter()
    if bad:
        errors = _report(cursor, columns, rules, cell_bad, row_bad, counts)
    # Duplicated numbers among rows that are otherwise clean (as the Python checks do).
    duplicates = f"""
        SELECT line, number, first_line FROM (
            SELECT line, number, min(line) OVER (PARTITION BY number) AS first_line
            FROM settle_checked
            WHERE number IN (
                SELECT number FROM settle_checked
                WHERE NOT ({cell_bad} OR coalesce({row_bad}, false))
                GROUP BY number HAVING count(*) > 1)
              AND NOT ({cell_bad} OR coalesce({row_bad}, false))
        ) d WHERE line > first_line
    """
    cursor.execute(f"SELECT count(*) FROM ({duplicates}) n")
    (duplicated,) = cursor.fetchone()
    if duplicated:
        counts[(C.COL_NUMBER, C.MSG["duplicate"].format(row=0))] += duplicated  # one kind, whatever the row
        cursor.execute(f"{duplicates} ORDER BY line LIMIT {ERRORS_KEPT}")
        for line, number, first_line in cursor.fetchall():
            errors.append(C.make_error(line + 1, C.COL_NUMBER, number, C.MSG["duplicate"].format(row=first_line + 1)))
    if errors:
        kept = C.sort_errors(errors)[:ERRORS_KEPT]
        return total, ErrorReport(kept, total=sum(counts.values()), kinds=count_kinds([], counts))
    cursor.execute(STAGE_DDL)
    cursor.execute(
        f"""
        INSERT INTO settle_stage (row_no, {STAGE_COLUMNS})
        SELECT line + 1, number, id_number, name, hospital, visit_type,
               CASE WHEN visit_type = '住院' THEN d_admitted END,
               CASE WHEN visit_type = '住院' THEN d_discharged END,
               CASE WHEN visit_type <> '住院' THEN d_visit END,
               CASE WHEN visit_type = '住院' THEN d_discharged ELSE d_visit END,
               d_settled, a_total, a_in_policy, a_basic, a_critical, a_other, a_onestop,
               out_of_area, diagnosis, major_disease
        FROM settle_checked
        """
    )
    return total, []


def _report(cursor, columns, rules, cell_bad, row_bad, counts: Counter) -> list[dict]:
    """The first errors of the bad rows in report order (as checks.sort_errors orders them), with the raw cell
    value where the Python checks show it; `counts` gets every error by column and reason."""
    parts = []
    for name, e in CELL_ERRORS:
        raw = f"r.c{columns[name]}" if name in columns else "NULL::text"
        value = f"CASE WHEN {_trim(raw)} = '' THEN '' ELSE {raw if name in RAW_VALUE_COLUMNS else _trim(raw)} END"
        parts.append(
            f"SELECT k.line, {_lit(name)}, {value}, {e} FROM bad k JOIN settle_raw r USING (line) WHERE {e} IS NOT NULL"
        )
    id_raw = f"r.c{columns[C.COL_ID]}"
    parts.append(
        f"SELECT k.line, {_lit(C.COL_ID)}, CASE WHEN {_trim(id_raw)} = '' THEN '' ELSE {id_raw} END, b.e_id "
        "FROM bad k JOIN settle_raw r USING (line) JOIN settle_bad_ids b ON b.id_number = k.id_number"
    )
    for name, cond, reason, value in rules:
        parts.append(f"SELECT line, {_lit(name)}, {value}, {_lit(reason)} FROM bad WHERE {cond}")
    order = " ".join(f"WHEN {_lit(name)} THEN {i}" for i, name in enumerate(C.ALL_COLUMNS))
    every = (
        f"WITH bad AS MATERIALIZED (SELECT * FROM settle_checked WHERE {cell_bad} OR coalesce({row_bad}, false)), "
        f"found (line, col, value, reason) AS ({' UNION ALL '.join(parts)}) "
    )
    cursor.execute(every + "SELECT col, reason, count(*) FROM found GROUP BY col, reason")
    for column, reason, n in cursor.fetchall():
        counts[(column, reason)] += n
    cursor.execute(
        every + f"SELECT line, col, value, reason FROM found "
        f'ORDER BY line, CASE col {order} ELSE -1 END, reason COLLATE "C" LIMIT {ERRORS_KEPT}'
    )
    return [C.make_error(line + 1, column, value, reason) for line, column, value, reason in cursor.fetchall()]


# --- rows checked in Python -------------------------------------------------------------------


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_line(r: C.SettlementRow, *, row_no: bool = True, tail: str = "") -> str:
    """A checked row as a line of COPY text: for settle_stage (with its row number) or for the table."""
    null = "\\N"

    def d(value):
        return value.isoformat() if value else null

    head = f"{r.row_no}\t" if row_no else ""
    return (
        f"{head}{_copy_text(r.number)}\t{r.id_number}\t{_copy_text(r.name)}\t{_copy_text(r.hospital)}\t"
        f"{r.visit_type}\t{d(r.admitted_on)}\t{d(r.discharged_on)}\t{d(r.visit_on)}\t{r.service_date}\t"
        f"{r.settled_on}\t{r.total}\t{r.in_policy}\t{r.basic}\t{r.critical}\t{r.other}\t{r.onestop}\t"
        f"{null if r.out_of_area is None else ('t' if r.out_of_area else 'f')}\t{_copy_text(r.diagnosis)}\t"
        f"{'t' if r.major_disease else 'f'}{tail}\n"
    )


def copy_rows(cursor, rows: list[C.SettlementRow]) -> None:
    """Fill settle_stage with rows checked in Python."""
    cursor.execute(STAGE_DDL)
    with cursor.copy(f"COPY settle_stage (row_no, {STAGE_COLUMNS}) FROM STDIN") as copy:
        copy.write("".join(map(copy_line, rows)))
