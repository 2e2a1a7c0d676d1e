"""The national platform's settlement list (DATA-FORMATS §8) as two built-in column profiles, one for each header
style (Chinese names, the interface's field codes), and the 医疗类别 table its med_type goes through. Both are
the administrator's to edit afterwards; written here once, as they were on the day of the migration."""

from django.db import migrations

# (§2 column, Chinese header(s), field code(s), value table)
PLATFORM = [
    ("结算单号", ["结算ID"], ["setl_id"], ""),
    ("就诊ID", ["就诊ID"], ["mdtrt_id"], ""),
    ("人员编号", ["人员编号"], ["psn_no"], ""),
    ("姓名", ["人员姓名"], ["psn_name"], ""),
    ("身份证号", ["证件号码"], ["certno"], ""),
    ("医疗机构", ["定点医药机构名称"], ["fixmedins_name"], ""),
    ("就诊类型", ["医疗类别"], ["med_type"], "med_type"),
    ("入院日期", ["开始日期"], ["begndate"], ""),
    ("出院日期", ["结束日期"], ["enddate"], ""),
    ("就诊日期", ["开始日期"], ["begndate"], ""),
    ("结算日期", ["结算时间"], ["setl_time"], ""),
    ("医疗总费用", ["医疗费总额"], ["medfee_sumamt"], ""),
    ("政策范围内费用", ["符合政策范围金额"], ["inscp_scp_amt"], ""),
    ("基本医保统筹支付", ["基本医疗保险统筹基金支出"], ["hifp_pay"], ""),
    ("大病保险支付", ["居民大病保险资金支出", "职工大额医疗费用补助基金支出"], ["hifmi_pay", "hifob_pay"], ""),
    (
        "其他保险支付",
        ["企业补充医疗保险基金支出", "公务员医疗补助资金支出", "其他支出"],
        ["hifes_pay", "cvlserv_pay", "oth_pay"],
        "",
    ),
    ("医疗救助支付", ["医疗救助基金支出"], ["maf_pay"], ""),
    ("全自费金额", ["全自费金额"], ["fulamt_ownpay_amt"], ""),
    ("个人负担总金额", ["个人负担总金额"], ["psn_part_amt"], ""),
]

PROFILES = [
    (
        "国家医保信息平台结算清单（中文表头）",
        1,
        "国家医疗保障信息平台导出的结算清单，表头为中文名称（结算ID、证件号码、医疗类别……）。"
        "医疗类别按“医疗类别对照”转换为就诊类型；个人负担总金额逐行核对。",
    ),
    (
        "国家医保信息平台结算清单（字段代码）",
        2,
        "国家医疗保障信息平台导出的结算清单，表头为接口字段代码（setl_id、certno、med_type……）。"
        "医疗类别按“医疗类别对照”转换为就诊类型；个人负担总金额逐行核对。",
    ),
]

# 11–13 and other 1x → 门诊, 14 → 门诊慢特病, 2x → 住院 (a code stands for the longer codes beginning with it).
MED_TYPES = [
    ("1", "其他门诊类（1 开头）", "门诊"),
    ("11", "普通门诊", "门诊"),
    ("12", "门诊挂号", "门诊"),
    ("13", "急诊", "门诊"),
    ("14", "门诊慢特病", "门诊慢特病"),
    ("2", "住院类（2 开头）", "住院"),
    ("21", "普通住院", "住院"),
]


def forwards(apps, schema_editor):
    ColumnProfile = apps.get_model("imports", "ColumnProfile")
    MedicalCategory = apps.get_model("settlements", "MedicalCategory")
    for code, name, visit_type in MED_TYPES:
        MedicalCategory.objects.get_or_create(code=code, defaults={"name": name, "visit_type": visit_type})
    for name, style, note in PROFILES:
        mapping = [
            {"column": column, "headers": headers[style - 1], **({"table": table} if table else {})}
            for column, *headers, table in PLATFORM
        ]
        ColumnProfile.objects.get_or_create(
            kind="settlement", name=name, defaults={"note": note, "mapping": mapping, "builtin": True}
        )


def backwards(apps, schema_editor):
    apps.get_model("imports", "ColumnProfile").objects.filter(kind="settlement", builtin=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_initial"),
        ("settlements", "0006_platform_columns"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
