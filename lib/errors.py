"""A file's error report, bounded: the first ERRORS_KEPT errors in full (in report order), and how many there were
in all and of each kind (column and reason). A file with a million bad rows gives a report that fits a page, a
download and a database row."""

import re
from collections import Counter

from .control import visible

ERRORS_KEPT = 5000
_NUMBERS = re.compile(r"[0-9]+")


class ErrorReport(list):
    """The kept errors (a list of {row, column, value, reason}); `total` and `kinds` count every error."""

    def __init__(self, kept=(), *, total: int | None = None, kinds: list[dict] | None = None):
        super().__init__(kept)
        self.total = len(self) if total is None else total
        self.kinds = kinds if kinds is not None else count_kinds(self)


def kind_of(reason: str) -> str:
    """A reason with its numbers taken out: 与第 N 行的结算单号重复 is one kind, whatever the row."""
    return _NUMBERS.sub("N", reason or "")


def count_kinds(errors, counts: Counter | None = None) -> list[dict]:
    """How many errors of each column and kind of reason, the most frequent first. `counts` may hold counts by
    (column, reason) already made elsewhere (in SQL)."""
    merged: Counter = Counter()
    for error in errors:
        merged[(error.get("column", ""), kind_of(error.get("reason", "")))] += 1
    for (column, reason), n in (counts or {}).items():
        merged[(column, kind_of(reason))] += n
    return [
        {"column": column, "reason": reason, "count": n}
        for (column, reason), n in sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    ]


def bounded(errors) -> ErrorReport:
    """A full list of errors (already in report order) as a bounded report."""
    if isinstance(errors, ErrorReport):
        return errors
    errors = list(errors)
    return ErrorReport(errors[:ERRORS_KEPT], total=len(errors), kinds=count_kinds(errors))


def error_line(error: dict) -> str:
    """One error as an operator command prints it: 第 N 行「列」（值：…）：reason, the parts it has; a control
    character in the value shown as �."""
    where = f"第 {error['row']} 行" if error.get("row") else "文件"
    column = f"「{error['column']}」" if error.get("column") else ""
    value = visible(str(error.get("value") or ""))
    return f"{where}{column}{f'（值：{value}）' if value else ''}：{error['reason']}"
