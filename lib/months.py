"""A month as people type it — 2026-11, 2026/11, 2026.11, 202611, 2026年11月 — read into its first day, checked to be
one the system keeps (2000 to 2100): one reading for every command and page that takes a month."""

import argparse
import datetime
import re

YEARS = (2000, 2100)
_MONTH = re.compile(r"^(\d{4})\s*(?:-|/|年|\.)?\s*(\d{1,2})\s*月?$")


class MonthError(ValueError):
    """Not a month; the message is shown to the user."""


def parse_month(text: str) -> datetime.date:
    """The month's first day."""
    match = _MONTH.match((text or "").strip())
    if not match:
        raise MonthError(f"月份格式不对：{text}（应为 2026-11 或 2026年11月）")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not YEARS[0] <= year <= YEARS[1]:
        raise MonthError(f"月份不存在：{text}（年份应在 {YEARS[0]}–{YEARS[1]} 之间）")
    return datetime.date(year, month, 1)


def month_end(first: datetime.date) -> datetime.date:
    """The last day of the month that begins on `first`."""
    return (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def not_after(first: datetime.date, today: datetime.date) -> datetime.date:
    """`first` when its month has begun by `today`; otherwise a MonthError."""
    if first > today.replace(day=1):
        raise MonthError(f"{first:%Y-%m} 还没有到，不能计算或抽取")
    return first


def year_arg(text: str) -> int:
    """An operator command's --year (argparse type): a year the system keeps, or argparse's error in Chinese."""
    text = (text or "").strip().removesuffix("年")
    if not (text.isascii() and text.isdigit() and YEARS[0] <= int(text) <= YEARS[1]):
        raise argparse.ArgumentTypeError(f"年度应为 {YEARS[0]}–{YEARS[1]} 之间的四位年份：{text}")
    return int(text)
