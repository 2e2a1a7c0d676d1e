"""The secondary list (DATA-FORMATS §4) and the early-warning list."""

from decimal import Decimal

from lib.spreadsheet import list_workbook
from recipients.categories import Category
from recipients.idnumber import mask_id_number, mask_phone

SECONDARY_HEADERS = [
    "案件编号",
    "乡镇（街道）",
    "姓名",
    "身份证号",
    "救助类别",
    "年度",
    "年度个人负担",
    "起付线",
    "应救助金额",
    "已救助金额",
    "本次救助金额",
    "状态",
]
WARNING_HEADERS = [
    "乡镇（街道）",
    "村（社区）",
    "姓名",
    "身份证号",
    "联系电话",
    "救助类别",
    "年度",
    "年度个人负担",
    "起付线或启动标准",
    "距标准",
]


def _amount(line: dict, key: str):
    value = line.get(key)
    return Decimal(value) if value not in (None, "None") else None


def secondary_workbook(cases, *, masked: bool) -> bytes:
    """DATA-FORMATS §4: one row per person-year secondary case."""
    names = dict(Category.choices)

    def rows():
        for case in cases:
            line = (case.calculation or [{}])[0]
            person = case.person
            yield [
                case.number,
                case.township.name,
                person.name,
                mask_id_number(person.id_number) if masked else person.id_number,
                names.get(line.get("category"), ""),
                case.year,
                _amount(line, "burden"),
                _amount(line, "deductible"),
                _amount(line, "due"),
                _amount(line, "already_granted"),
                case.approved_amount if case.approved_amount is not None else case.proposed_amount,
                case.get_status_display(),
            ]

    return list_workbook("二次救助名单", SECONDARY_HEADERS, rows(), text_columns=(3,), money_columns=(6, 7, 8, 9, 10))


def warning_workbook(burdens, *, masked: bool) -> bytes:
    def rows():
        for b in burdens:
            person = b.person
            yield [
                b.township.name,
                person.village.name if person.village_id else "",
                person.name,
                mask_id_number(person.id_number) if masked else person.id_number,
                mask_phone(person.phone) if masked else person.phone,
                b.get_category_display(),
                b.year,
                b.burden,
                b.threshold,
                b.threshold - b.burden,
            ]

    return list_workbook("二次救助预警", WARNING_HEADERS, rows(), text_columns=(3, 4), money_columns=(7, 8, 9))
