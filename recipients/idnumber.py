"""Resident ID numbers (居民身份证号码, GB 11643-1999) and masking of personal data."""

import datetime
import re
import unicodedata
from dataclasses import dataclass

from stdnum.cn import ric

from lib.tabular import CellError, cell_digits

_DIGITS = re.compile(r"^[0-9]+$")
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


class IdNumberError(ValueError):
    """A resident ID that fails GB 11643; the message is shown to the user."""


@dataclass(frozen=True, slots=True)
class IdInfo:
    number: str
    birth_date: datetime.date
    sex: str  # "M" / "F", from the parity of the 17th digit


def parse_id_number(value: str, *, today: datetime.date | None = None) -> IdInfo:
    """Validate an 18-character resident ID and derive birth date and sex.

    The check digit is computed with python-stdnum (ISO 7064 MOD 11-2). The birth place is not:
    region codes are renamed and merged over the years, and old IDs keep their original code.
    """
    # NFKC turns full-width digits and letters (typed with a Chinese input method) into ASCII.
    number = unicodedata.normalize("NFKC", value).strip().replace(" ", "").upper()
    if not number:
        raise IdNumberError("身份证号为空")
    if "E+" in number or "E-" in number:
        raise IdNumberError("身份证号被 Excel 显示为科学计数法，后几位已丢失，请把该列设置为文本后重新录入")
    if len(number) == 15 and _DIGITS.match(number):
        raise IdNumberError("这是 15 位旧身份证号，请换成 18 位身份证号")
    if len(number) != 18:
        raise IdNumberError(f"身份证号应为 18 位，实际为 {len(number)} 位")
    if not _ID_SHAPE.match(number):
        raise IdNumberError("身份证号只能由数字组成，最后一位可以是 X")
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("身份证号中的出生日期不是有效日期") from None
    today = today or datetime.date.today()
    if birth_date > today or birth_date.year < 1890:
        raise IdNumberError("身份证号中的出生日期不合理")
    if ric.calc_check_digit(number) != number[17]:
        raise IdNumberError("身份证号校验位错误（可能有数字录错）")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdInfo(number=number, birth_date=birth_date, sex=sex)


def mask_id_number(number: str) -> str:
    """4409**********123X: region prefix and last four kept."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    """138****5678 for mobiles; otherwise all but the last four digits hidden."""
    if not phone:
        return ""
    if len(phone) == 11 and phone.isdigit():
        return phone[:3] + "****" + phone[-4:]
    if len(phone) <= 4:
        return "*" * len(phone)
    return "*" * (len(phone) - 4) + phone[-4:]


def mask_bank_account(account: str) -> str:
    if not account:
        return ""
    if len(account) <= 8:
        return "*" * (len(account) - 4) + account[-4:] if len(account) > 4 else "*" * len(account)
    return account[:4] + "*" * (len(account) - 8) + account[-4:]


# Personal data inside free text and change summaries (the audit log): ID numbers (18 or 15 digits), bank
# accounts (12 or more digits, possibly in groups) and mobile numbers, wherever they appear.
# Not inside a longer word: the portal's own numbers (XS202500000123, EC20250000012301) are not personal data.
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")
_ACCOUNT_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([0-9](?:[0-9 ]{10,38})[0-9])(?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(1[3-9][0-9]{9})(?![0-9A-Za-z])")
PERSONAL_KEYS = {
    "id_number": mask_id_number,
    "agent_id_number": mask_id_number,
    "payee_account": mask_bank_account,
    "bank_account": mask_bank_account,
    "account": mask_bank_account,
    "phone": mask_phone,
}


def mask_text(text: str) -> str:
    """Free text with every ID number, bank account and mobile number in it masked."""
    if not text:
        return text
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(1)), text)
    text = _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group(1)), text)
    return _ACCOUNT_IN_TEXT.sub(lambda m: mask_bank_account(m.group(1).replace(" ", "")), text)


def mask_summary(value):
    """A before/after summary (dict, list or scalar) with personal data masked: by key where the key says what it
    is, by pattern everywhere else."""
    if isinstance(value, dict):
        masked = {}
        for key, item in value.items():
            masker = PERSONAL_KEYS.get(key)
            masked[key] = masker(str(item)) if masker and isinstance(item, str | int) else mask_summary(item)
        return masked
    if isinstance(value, list | tuple):
        return [mask_summary(item) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


ACCOUNT_DIGITS = (12, 30)  # a bank card or passbook account: 12 to 30 digits


class AccountError(ValueError):
    """A bank account that cannot be right; the message is shown to the user."""


def parse_bank_account(text: str) -> str:
    """The account's digits (spaces and hyphens as printed on cards are removed), or AccountError."""
    value = unicodedata.normalize("NFKC", text or "").replace(" ", "").replace("-", "")
    low, high = ACCOUNT_DIGITS
    if not value.isascii() or not value.isdigit():
        raise AccountError("银行账号只能由数字组成")
    if not low <= len(value) <= high:
        raise AccountError(f"银行账号应为 {low} 至 {high} 位数字，实际为 {len(value)} 位")
    return value


class IdCells:
    """The ID number cells of one file, each distinct value checked once: a file repeats a person on many rows."""

    def __init__(self, *, today: datetime.date | None = None):
        self.today = today
        self.cache: dict[str, IdInfo | IdNumberError] = {}

    def parse(self, raw) -> IdInfo:
        """The ID of a cell, or CellError with the message for the report."""
        digits = cell_digits(raw, what="身份证号")
        found = self.cache.get(digits)
        if found is None:
            try:
                found = parse_id_number(digits, today=self.today)
            except IdNumberError as exc:
                found = exc
            self.cache[digits] = found
        if isinstance(found, IdNumberError):
            raise CellError(str(found))
        return found
