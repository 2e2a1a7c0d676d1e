"""A generated list as the national platform exports it (DATA-FORMATS §8), in either header style."""

import datetime
import importlib
import io
import random
from decimal import Decimal

from django.apps import apps
from openpyxl import Workbook

from recipients.demo import to_csv
from settlements import demo as settlement_demo
from tests.factories import valid_id_number

ID = valid_id_number(datetime.date(1956, 3, 8), female=True)
DAY = datetime.date(2025, 6, 10)
CN_PROFILE = "国家医保信息平台结算清单（中文表头）"
CODE_PROFILE = "国家医保信息平台结算清单（字段代码）"

# The platform's columns (DATA-FORMATS §8) in both header styles, and one column the profile does not read.
CN = [
    "结算ID", "就诊ID", "人员编号", "人员姓名", "证件号码", "定点医药机构名称", "医疗类别", "开始日期", "结束日期",
    "结算时间", "医疗费总额", "符合政策范围金额", "基本医疗保险统筹基金支出", "居民大病保险资金支出",
    "职工大额医疗费用补助基金支出", "企业补充医疗保险基金支出", "公务员医疗补助资金支出", "其他支出",
    "医疗救助基金支出", "全自费金额", "个人负担总金额", "险种类型",
]  # fmt: skip
CODES = [
    "setl_id", "mdtrt_id", "psn_no", "psn_name", "certno", "fixmedins_name", "med_type", "begndate", "enddate",
    "setl_time", "medfee_sumamt", "inscp_scp_amt", "hifp_pay", "hifmi_pay", "hifob_pay", "hifes_pay",
    "cvlserv_pay", "oth_pay", "maf_pay", "fulamt_ownpay_amt", "psn_part_amt", "insutype",
]  # fmt: skip
# med_type → the 就诊类型 the default table gives it (11–13 and other 1x 门诊, 14 门诊慢特病, 2x 住院).
MED_TYPES = {
    "11": "门诊",
    "13": "门诊",
    "16": "门诊",
    "14": "门诊慢特病",
    "1401": "门诊慢特病",
    "21": "住院",
    "22": "住院",
}
CENT = Decimal("0.01")


def platform_record(rng: random.Random, k: int, med_type: str) -> dict:
    """One settlement as the platform lists it, with every amount the profile maps filled in."""
    inpatient = MED_TYPES[med_type] == "住院"
    row = settlement_demo.settlement_row(rng, f"S{k:04d}", ID, "王秀英", service_date=DAY, inpatient=inpatient)
    get = dict(zip(settlement_demo.HEADERS, row, strict=True)).get
    t, p, b, a0 = (Decimal(get(c)) for c in ("医疗总费用", "政策范围内费用", "基本医保统筹支付", "医疗救助支付"))
    room = t - b - a0  # what the other funds may pay at most
    hifmi, hifob, hifes, cvlserv = ((room * Decimal(share)).quantize(CENT) for share in ("0.1", "0.02", "0.03", "0.01"))
    oth = Decimal("0.25")
    burden = t - b - hifmi - hifob - hifes - cvlserv - oth - a0
    begin = datetime.date.fromisoformat(get("入院日期") or get("就诊日期"))
    end = datetime.date.fromisoformat(get("出院日期") or get("就诊日期"))
    return {
        "setl_id": f"S{k:04d}",
        "mdtrt_id": f"MD{k:06d}",
        "psn_no": f"4409000000{k:08d}",
        "psn_name": "王秀英",
        "certno": ID,
        "fixmedins_name": get("医疗机构"),
        "med_type": med_type,
        "begndate": begin,
        "enddate": end,
        "setl_time": datetime.datetime.combine(end, datetime.time(10, 23, 11)),
        "medfee_sumamt": t,
        "inscp_scp_amt": p,
        "hifp_pay": b,
        "hifmi_pay": hifmi,
        "hifob_pay": hifob,
        "hifes_pay": hifes,
        "cvlserv_pay": cvlserv,
        "oth_pay": oth,
        "maf_pay": a0,
        "fulamt_ownpay_amt": (t - p).quantize(CENT),
        "psn_part_amt": burden,
        "insutype": "390",
    }


def platform_records(n=7):
    rng = random.Random(15)
    return [platform_record(rng, k, med_type) for k, med_type in enumerate(list(MED_TYPES)[:n])]


def platform_csv(records, headers=CN) -> bytes:
    def text(value):
        if isinstance(value, datetime.datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return value.isoformat() if isinstance(value, datetime.date) else str(value)

    return to_csv([[text(r[code]) for code in CODES] for r in records], headers=headers)


def platform_xlsx(records, headers=CODES) -> bytes:
    """As the platform's own export saves it: amounts as numbers, dates and times as date cells."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for r in records:
        sheet.append([float(r[c]) if isinstance(r[c], Decimal) else r[c] for c in CODES])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def install_builtin_profiles() -> None:
    """The built-in profiles and 医疗类别 table as the migration installs them (a flushed database loses them)."""
    importlib.import_module("settlements.migrations.0007_platform_profile").forwards(apps, None)
