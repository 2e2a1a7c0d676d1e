"""The leads list as handed to the townships (DATA-FORMATS §3)."""

from lib.spreadsheet import list_workbook
from recipients.idnumber import mask_id_number, mask_phone

LEAD_HEADERS = [
    "线索编号",
    "乡镇（街道）",
    "村（社区）",
    "姓名",
    "身份证号",
    "联系电话",
    "救助类别",
    "年度",
    "结算笔数",
    "政策范围内个人自付合计",
    "预计救助金额",
    "状态",
]


def leads_workbook(leads, *, masked: bool) -> bytes:
    """The leads as an .xlsx: IDs and phones as text, masked unless `masked` is False; streamed row by row."""

    def rows():
        for lead in leads:
            person = lead.person
            yield [
                lead.number,
                lead.township.name,
                person.village.name if person.village_id else "",
                person.name,
                mask_id_number(person.id_number) if masked else person.id_number,
                mask_phone(person.phone) if masked else person.phone,
                lead.get_category_display(),
                lead.year,
                lead.settlement_count,
                lead.self_pay_total,
                lead.estimate,
                lead.get_status_display(),
            ]

    return list_workbook(
        "主动救助线索", LEAD_HEADERS, rows(), text_columns=(4, 5), money_columns=(9, 10), widths={1: 14, 4: 22}
    )
