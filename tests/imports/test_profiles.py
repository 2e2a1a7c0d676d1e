"""Column profiles: the national platform's settlement list read through its built-in profile (both header styles),
a roster profile an administrator maps once, and the files no single profile can read."""

import datetime
import random
from decimal import Decimal

import pytest

from imports.models import ColumnProfile
from imports.services import import_apply, import_confirm, import_create, import_run, import_validate
from recipients.demo import to_csv
from recipients.models import Identity, RosterImport
from settlements import demo as settlement_demo
from settlements.models import MedicalCategory, Settlement, SettlementImport
from tests.imports.platform import (
    CN,
    CN_PROFILE,
    CODE_PROFILE,
    CODES,
    DAY,
    ID,
    MED_TYPES,
    install_builtin_profiles,
    platform_csv,
    platform_records,
    platform_xlsx,
)

pytestmark = pytest.mark.django_db
S = SettlementImport.Status


@pytest.fixture(autouse=True)
def platform_profiles(db):
    install_builtin_profiles()


def checked(user, content, name="结算清单.csv", kind="settlement", options=None):
    record = import_create(kind=kind, user=user, file_name=name, content=content, options=options, enqueue=False)
    return import_validate(kind=kind, pk=record.pk)


def written(user, content, name="结算清单.csv"):
    record = checked(user, content, name)
    assert record.status == S.VALID, record.errors
    import_confirm(record=record, user=user, enqueue=False)
    return import_apply(kind="settlement", pk=record.pk)


# --- the platform's list -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "profile", "make", "name"),
    [(CN, CN_PROFILE, platform_csv, "结算清单.csv"), (CODES, CODE_PROFILE, platform_xlsx, "setl_list.xlsx")],
    ids=["chinese-csv", "codes-xlsx"],
)
def test_the_platform_list_is_recognised_and_every_mapped_field_is_written(reviewer, headers, profile, make, name):
    records = platform_records()
    record = written(reviewer, make(records, headers=headers), name)
    assert record.status == S.DONE and record.rows_added == len(records)
    assert record.profile_name == profile
    for r in records:
        s = Settlement.objects.get(number=r["setl_id"])
        assert s.visit_type == MED_TYPES[r["med_type"]]
        assert (s.id_number, s.name, s.hospital) == (ID, "王秀英", r["fixmedins_name"])
        assert (s.total, s.in_policy, s.basic) == (r["medfee_sumamt"], r["inscp_scp_amt"], r["hifp_pay"])
        assert s.critical == r["hifmi_pay"] + r["hifob_pay"]  # C: the two funds added up
        assert s.other == r["hifes_pay"] + r["cvlserv_pay"] + r["oth_pay"]  # O: three funds added up
        assert s.onestop == r["maf_pay"]
        assert s.settled_on == r["setl_time"].date()  # the date of 结算时间
        if s.visit_type == "住院":
            assert (s.admitted_on, s.discharged_on, s.visit_on) == (r["begndate"], r["enddate"], None)
        else:
            assert (s.admitted_on, s.visit_on) == (None, r["begndate"])
        assert s.service_date == (r["enddate"] if s.visit_type == "住院" else r["begndate"])
        # The platform's own columns are kept on the settlement.
        assert (s.mdtrt_id, s.psn_no) == (r["mdtrt_id"], r["psn_no"])
        assert (s.fulamt_ownpay_amt, s.psn_part_amt) == (r["fulamt_ownpay_amt"], r["psn_part_amt"])
        assert s.last_import == record


def test_the_preview_shows_the_profile_and_the_sample_in_our_columns(reviewer):
    record = checked(reviewer, platform_csv(platform_records()))
    assert record.status == S.VALID
    rows = {r["column"]: r for r in record.profile_rows}
    assert rows["大病保险支付"]["headers"] == "居民大病保险资金支出 + 职工大额医疗费用补助基金支出"
    assert "相加" in rows["大病保险支付"]["how"]
    assert rows["就诊类型"]["headers"] == "医疗类别" and "医疗类别对照表" in rows["就诊类型"]["how"]
    assert rows["个人负担总金额"]["kept"]
    sample = record.sample
    columns = sample["columns"]
    assert columns[:3] == ["行号", "结算单号", "身份证号"] and "个人负担总金额" in columns
    first = dict(zip(columns, sample["rows"][0], strict=True))
    assert first["结算单号"] == "S0000" and first["就诊类型"] == "门诊" and first["结算日期"] == "2025-06-10"
    first_record = platform_records()[0]
    assert first["大病保险支付"] == f"{first_record['hifmi_pay'] + first_record['hifob_pay']:,.2f}"  # as checked
    assert ID not in str(sample) and "440900000000000000" not in str(sample)  # ID and 人员编号 masked


def test_a_row_whose_personal_burden_does_not_add_up_is_reported_and_nothing_is_written(reviewer):
    records = platform_records()
    records[2]["psn_part_amt"] += Decimal("0.02")  # beyond the 0.01 the platform's rounding may leave
    records[3]["psn_part_amt"] += Decimal("0.01")  # within it
    record = checked(reviewer, platform_csv(records))
    assert record.status == S.INVALID and not Settlement.objects.exists()
    assert len(record.errors) == 1
    error = record.errors[0]
    assert (error["row"], error["column"]) == (4, "个人负担总金额")
    assert error["value"] == str(records[2]["psn_part_amt"])
    assert (
        "医疗总费用减去基本医保、大病保险、其他保险和医疗救助支付" in error["reason"] and "相差 0.02" in error["reason"]
    )


def test_errors_name_the_files_own_header_and_an_unknown_med_type_says_where_to_add_it(reviewer):
    records = platform_records()
    records[0]["med_type"] = "41"  # 定点药店购药: not in the default table
    records[1]["hifob_pay"] = "abc"
    records[4]["inscp_scp_amt"] = records[4]["medfee_sumamt"] + 1  # P > T
    record = checked(reviewer, platform_csv(records, headers=CODES))
    assert record.status == S.INVALID
    found = {(e["row"], e["column"]): e for e in record.errors}
    med = found[(2, "med_type（就诊类型）")]
    assert med["value"] == "41" and "医疗类别对照表中没有对应的就诊类型" in med["reason"]
    assert "医疗类别对照" in med["reason"]
    assert found[(3, "hifob_pay（大病保险支付）")]["reason"].startswith("金额格式不对")
    assert found[(6, "inscp_scp_amt（政策范围内费用）")]["reason"] == "政策范围内费用不能大于医疗总费用"


def test_the_med_type_table_is_the_administrators_and_each_import_keeps_the_one_it_used(reviewer):
    MedicalCategory.objects.create(code="41", name="定点药店购药", visit_type="门诊")
    MedicalCategory.objects.filter(code="16").delete()
    MedicalCategory.objects.update_or_create(code="16", defaults={"name": "门诊两病", "visit_type": "门诊慢特病"})
    records = platform_records()
    records[0]["med_type"] = "41"
    record = written(reviewer, platform_csv(records))
    assert Settlement.objects.get(number="S0000").visit_type == "门诊"
    assert Settlement.objects.get(number="S0002").visit_type == "门诊慢特病"  # 16, by its own row now
    MedicalCategory.objects.filter(code="41").delete()
    kept = SettlementImport.objects.get(pk=record.pk).profile_mapping["tables"]["med_type"]
    assert ["41", "定点药店购药", "门诊"] in kept  # the history keeps the table as it was


def test_a_later_edit_of_the_profile_does_not_rewrite_the_history_or_the_write(reviewer):
    record = checked(reviewer, platform_csv(platform_records()))
    profile = ColumnProfile.objects.get(name=CN_PROFILE)
    profile.mapping = [e for e in profile.mapping if e["column"] != "全自费金额"]
    profile.name = "改名后的方案"
    profile.save()
    import_confirm(record=record, user=reviewer, enqueue=False)
    record = import_apply(kind="settlement", pk=record.pk)
    assert record.status == S.DONE and record.profile_name == CN_PROFILE
    assert any(e["column"] == "全自费金额" for e in record.profile_mapping["columns"])
    assert Settlement.objects.filter(fulamt_ownpay_amt__isnull=False).count() == 7


def test_importing_the_same_platform_list_again_changes_nothing_and_a_changed_kept_column_updates(reviewer):
    records = platform_records()
    written(reviewer, platform_csv(records))
    again = written(reviewer, platform_csv(records))
    assert (again.rows_added, again.rows_updated, again.rows_unchanged) == (0, 0, 7)
    records[5]["mdtrt_id"] = "MD-CORRECTED"
    changed = written(reviewer, platform_csv(records))
    assert (changed.rows_updated, changed.updated_numbers) == (1, ["S0005"])
    assert Settlement.objects.get(number="S0005").mdtrt_id == "MD-CORRECTED"


def test_a_template_file_after_a_platform_list_leaves_the_kept_columns_alone(reviewer):
    written(reviewer, platform_csv(platform_records(1)))
    template = to_csv(
        [settlement_demo.settlement_row(random.Random(2), "S0000", ID, "王秀英", service_date=DAY)],
        headers=settlement_demo.HEADERS,
    )
    record = written(reviewer, template, "模板.csv")
    assert record.profile_name == "结算数据模板（系统表头）" and record.profile_is_template
    assert Settlement.objects.get(number="S0000").mdtrt_id == "MD000000"


def test_the_operator_command_path_chooses_the_profile_too(reviewer):
    content = platform_csv(platform_records())
    record = import_create(
        kind="settlement", user=None, file_name="s.csv", content=content, enqueue=False, keep_content=False
    )
    record = import_run(record=record, user=None, content=content)
    assert record.status == S.DONE and record.profile_name == CN_PROFILE and record.rows_added == 7


# --- files no single profile reads ---------------------------------------------------------------------------


def test_a_platform_list_missing_one_header_names_it_beside_the_templates_missing_columns(reviewer):
    headers = [h if h != "结算时间" else "结算日期时间" for h in CN]
    record = checked(reviewer, platform_csv(platform_records(), headers=headers))
    assert record.status == S.INVALID
    first = record.errors[0]
    assert first["column"] == "结算时间"
    assert first["reason"] == (
        f"文件的表头与列对应方案“{CN_PROFILE}”接近，但缺少该方案的表头“结算时间”（对应本系统的“结算日期”）"
    )
    missing = [e["reason"] for e in record.errors[1:]]
    assert "缺少必填列“结算单号”" in missing and "缺少必填列“基本医保统筹支付”" in missing
    assert not any(CODE_PROFILE in e["reason"] for e in record.errors)  # the other style is nowhere near


def test_a_file_matching_two_profiles_is_refused_naming_both(reviewer):
    both = CN + [c for c in CODES if c not in ("mdtrt_id", "psn_no", "fulamt_ownpay_amt", "psn_part_amt")]
    rows = [[*r, *["" for _ in range(len(both) - len(r))]] for r in [["S1"]]]
    record = checked(reviewer, to_csv(rows, headers=both))
    assert record.status == S.INVALID and not Settlement.objects.exists()
    (error,) = record.errors
    assert CN_PROFILE in error["reason"] and CODE_PROFILE in error["reason"]
    assert "无法确定按哪个方案读取" in error["reason"]


def test_a_stopped_profile_no_longer_recognises_its_files(reviewer):
    ColumnProfile.objects.filter(name=CN_PROFILE).update(active=False)
    record = checked(reviewer, platform_csv(platform_records()))
    assert record.status == S.INVALID
    assert [e["reason"] for e in record.errors][:2] == ["缺少必填列“结算单号”", "缺少必填列“身份证号”"]


# --- a roster profile --------------------------------------------------------------------------------------------

MZ_HEADERS = ["序号", "身份证号码", "姓名", "救助类型", "保障起始日期", "保障终止日期", "所属乡镇", "所属村居", "备注"]


def mz_profile(**changes) -> ColumnProfile:
    mapping = [
        {"column": "身份证号", "headers": ["身份证号码"]},
        {"column": "姓名", "headers": ["姓名"]},
        {"column": "救助类别", "headers": ["救助类型"]},
        {"column": "认定日期", "headers": ["保障起始日期"]},
        {"column": "退出日期", "headers": ["保障终止日期"]},
        {"column": "乡镇（街道）", "headers": ["所属乡镇"]},
        {"column": "村（社区）", "headers": ["所属村居"]},
    ]
    return ColumnProfile.objects.create(kind="roster", name="民政低保名册", mapping=mapping, **changes)


def test_a_roster_in_the_departments_headers_is_read_through_its_profile(village, reviewer):
    mz_profile()
    rows = [["1", ID, "王秀英", "低保", "2023-01-01 00:00:00", "", "石鼓镇", "石鼓村", ""]]
    record = checked(reviewer, to_csv(rows, headers=MZ_HEADERS), "民政.csv", kind="roster", options={"source": "MZ"})
    assert record.status == RosterImport.Status.VALID and record.profile_name == "民政低保名册"
    assert record.sample["columns"][:4] == ["行号", "身份证号", "姓名", "救助类别"]
    import_confirm(record=record, user=reviewer, enqueue=False)
    record = import_apply(kind="roster", pk=record.pk)
    assert record.status == RosterImport.Status.DONE and record.rows_added == 1
    identity = Identity.objects.get()
    assert (identity.person.id_number, identity.category, identity.valid_from) == (ID, "DB", datetime.date(2023, 1, 1))
    assert identity.person.village == village


def test_a_bad_roster_row_names_the_departments_header(village, reviewer):
    mz_profile()
    rows = [["1", ID, "王秀英", "低保", "2023-01-01", "2022-01-01", "无此镇", "", ""]]
    record = checked(reviewer, to_csv(rows, headers=MZ_HEADERS), "民政.csv", kind="roster", options={"source": "MZ"})
    assert record.status == RosterImport.Status.INVALID
    assert {(e["row"], e["column"]) for e in record.errors} == {
        (2, "保障终止日期（退出日期）"),
        (2, "所属乡镇（乡镇（街道））"),
    }
    assert not Identity.objects.exists()


def test_a_bad_person_number_is_reported_masked(reviewer):
    records = platform_records(2)
    records[1]["psn_no"] = "44" + "0" * 60
    record = checked(reviewer, platform_csv(records))
    (error,) = record.errors
    assert (error["row"], error["column"], error["reason"]) == (3, "人员编号", "人员编号超过 50 个字")
    assert records[1]["psn_no"] not in error["value"] and error["value"].endswith("0000")
