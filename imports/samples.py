"""The first rows of an uploaded file as the portal reads them, shown before the user confirms.

Counts say how many rows a file holds, not whether they were read right: a CSV saved in another encoding
reads as 鍖婚櫌 instead of 医院, a date column may come out empty. Each format names the columns it shows and
how each cell is read (the same cell readers its check uses); personal data is masked by the format. A file
read through a column profile (imports.profiles) is shown through it: the format's columns, as the check reads them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from lib.control import visible
from lib.tabular import CellError, TableError, cell_date, cell_money, column_index, iter_records, read_table

from .mapping import FileColumns, Profile

SAMPLE_ROWS = 10
CELL_SHOWN = 60  # characters of one cell
# Control characters (NUL, which PostgreSQL's JSON refuses, and the like) are shown as a replacement mark: the
# check reports them as errors; the preview only has to show that something is there.


@dataclass(frozen=True)
class SampleColumn:
    header: str  # the file's column
    read: Callable[[object], str] = lambda value: "" if value is None else str(value)
    label: str = ""  # the preview's header, when it differs from the file's


def shown_date(value) -> str:
    """A date cell as the checks read it, in ISO form; empty when the cell is."""
    day = cell_date(value)
    return day.isoformat() if day else ""


def shown_money(value) -> str:
    """An amount cell as the checks read it, with separators: 12,345.60."""
    amount = cell_money(value)
    return "" if amount is None else f"{amount:,.2f}"


def _shown(column: SampleColumn, value) -> str:
    try:
        text = column.read(value)
    except CellError as exc:
        text = f"（无法读取：{exc}）"
    except (TypeError, ValueError):
        text = "（无法读取）"
    text = visible("" if text is None else str(text))
    return text if len(text) <= CELL_SHOWN else text[: CELL_SHOWN - 1] + "…"


def sample_rows(
    content: bytes,
    file_name: str,
    columns: list[SampleColumn],
    *,
    limit: int = SAMPLE_ROWS,
    profile: Profile | None = None,
    spec: FileColumns | None = None,
) -> dict:
    """{"columns": [...], "rows": [[row number, cell, ...], ...]} for the first `limit` data rows; columns the
    file lacks are left out. Empty when the file cannot be read at all (its check reports why). With a `profile`
    (and the format's `spec`), the file's columns are first mapped to the format's."""
    try:
        table = read_table(content, file_name)
    except TableError:
        return {}
    if profile is not None and spec is not None:
        table = profile.read(table, spec).table
    found, _ = column_index(table.headers, [c.header for c in columns])
    present = [c for c in columns if c.header in found]
    if not present:
        return {}
    rows = []
    for number, record in iter_records(table, {c.header: found[c.header] for c in present}):
        rows.append([number, *(_shown(c, record[c.header]) for c in present)])
        if len(rows) >= limit:
            break
    return {"columns": ["行号", *(c.label or c.header for c in present)], "rows": rows}
