"""An administrator maps a department's headers once in 系统管理 (the Django admin); files with those headers are
then recognised. The form names every required column left unmapped and refuses a profile that clashes."""

import datetime

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from imports.models import ColumnProfile
from imports.services import import_create, import_validate
from recipients.demo import to_csv
from recipients.models import RosterImport
from settlements.models import MedicalCategory
from tests.conftest import client_for
from tests.factories import valid_id_number
from tests.imports.platform import install_builtin_profiles

pytestmark = pytest.mark.django_db
ID = valid_id_number(datetime.date(1956, 3, 8), female=True)
ADD = reverse("admin:imports_columnprofile_add")
XCZX_HEADERS = ["公民身份号码", "户主姓名", "人员类别", "纳入时间", "退出时间", "乡（镇）", "行政村", "联系方式"]
# The roster's columns in the order of the form (recipients.roster.FILE_COLUMNS): 身份证号, 姓名, 救助类别, 认定日期,
# 乡镇（街道）, then 退出日期, 村（社区）, 联系电话, 开户银行, 银行账号, 数据来源.
XCZX_MAPPING = {"col_0": "公民身份号码", "col_1": "户主姓名", "col_2": "人员类别", "col_3": "纳入时间",
                "col_4": "乡（镇）", "col_5": "退出时间", "col_6": "行政村", "col_7": "联系方式"}  # fmt: skip


def post(client, data, kind="roster", files=None):
    return client.post(
        f"{ADD}?kind={kind}", {"name": "乡村振兴监测对象名册", "note": "", "active": "on", **data, **(files or {})}
    )


def test_adding_a_profile_starts_by_choosing_the_kind_of_file(client, admin_user):
    page = client_for(client, admin_user).get(ADD).text
    assert "救助对象名册" in page and "医保结算数据" in page and f"{ADD}?kind=roster" in page
    form = client.get(f"{ADD}?kind=roster").text
    assert "身份证号（必填）" in form and "数据来源" in form and "示例文件（可选）" in form


def test_every_required_column_left_unmapped_is_named_and_nothing_is_saved(client, admin_user):
    client_for(client, admin_user)
    data = {k: v for k, v in XCZX_MAPPING.items() if k not in ("col_0", "col_3")}
    response = post(client, data)
    assert response.status_code == 200 and not ColumnProfile.objects.filter(kind="roster").exists()
    errors = response.context["adminform"].form.errors
    assert errors["col_0"] == ["“身份证号”是必填列，请填写文件中对应的表头"]
    assert errors["col_3"] == ["“认定日期”是必填列，请填写文件中对应的表头"]


def test_a_profile_mapped_once_recognises_the_departments_files(client, admin_user, village, reviewer):
    client_for(client, admin_user)
    response = post(client, XCZX_MAPPING)
    assert response.status_code == 302, response.context["adminform"].form.errors
    profile = ColumnProfile.objects.get(kind="roster")
    assert profile.mapping[0] == {"column": "身份证号", "headers": ["公民身份号码"]}
    assert AuditEvent.objects.filter(action="admin.add", object_id=str(profile.pk)).exists()
    rows = [[ID, "王秀英", "监测对象", "2024/5/6", "", "石鼓镇", "石鼓村", "13812345678"]]
    record = import_create(
        kind="roster", user=reviewer, file_name="监测对象.csv", content=to_csv(rows, headers=XCZX_HEADERS),
        options={"source": "XCZX"}, enqueue=False,
    )  # fmt: skip
    record = import_validate(kind="roster", pk=record.pk)
    assert record.status == RosterImport.Status.VALID and record.profile_name == "乡村振兴监测对象名册"
    page = client_for(client, reviewer).get(reverse("recipients:import_detail", args=[record.pk])).text
    assert 'data-testid="profile"' in page and "公民身份号码" in page and "人员类别" in page
    assert "13812345678" not in page


def test_a_profile_every_template_file_would_also_match_is_refused(client, admin_user):
    client_for(client, admin_user)
    same = {"col_0": "身份证号", "col_1": "姓名", "col_2": "救助类别", "col_3": "认定日期", "col_4": "乡镇（街道）"}
    response = post(client, same)
    assert response.status_code == 200 and not ColumnProfile.objects.filter(kind="roster").exists()
    assert "与列对应方案“名册模板（系统表头）”冲突" in str(response.context["adminform"].form.non_field_errors())


def test_only_amounts_may_be_added_up(client, admin_user):
    client_for(client, admin_user)
    response = post(client, {**XCZX_MAPPING, "col_1": "户主姓名 + 成员姓名"})
    assert response.context["adminform"].form.errors["col_1"] == ["只有金额列可以由几列相加；请只填写一个表头"]


def test_a_sample_file_shows_a_header_typed_wrong_before_the_profile_is_saved(client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client_for(client, admin_user)
    sample = SimpleUploadedFile("样例.csv", to_csv([], headers=[h for h in XCZX_HEADERS if h != "纳入时间"]))
    response = post(client, XCZX_MAPPING, files={"sample_file": sample})
    assert response.status_code == 200 and not ColumnProfile.objects.filter(kind="roster").exists()
    (message,) = response.context["adminform"].form.errors["col_3"]
    assert message.startswith("示例文件中没有表头“纳入时间”。文件的表头有：公民身份号码、户主姓名")


def test_the_built_in_platform_profile_is_shown_for_editing_and_cannot_be_deleted(client, admin_user):
    install_builtin_profiles()
    profile = ColumnProfile.objects.get(name="国家医保信息平台结算清单（中文表头）")
    client_for(client, admin_user)
    page = client.get(reverse("admin:imports_columnprofile_change", args=[profile.pk])).text
    assert "居民大病保险资金支出 + 职工大额医疗费用补助基金支出" in page
    assert "就诊类型：按医疗类别对照表转换" in page and "保留的列" in page
    assert (
        client.post(reverse("admin:imports_columnprofile_delete", args=[profile.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert client.get(reverse("admin:settlements_medicalcategory_changelist")).status_code == 200
    assert MedicalCategory.objects.filter(code="14", visit_type="门诊慢特病").exists()


def test_only_the_administrator_edits_profiles(client, reviewer):
    response = client_for(client, reviewer).get(ADD)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_list_of_profiles_says_which_files_each_reads(client, admin_user):
    install_builtin_profiles()
    page = client_for(client, admin_user).get(reverse("admin:imports_columnprofile_changelist")).text
    assert "国家医保信息平台结算清单（字段代码）" in page and "医保结算数据" in page and "?kind=settlement" in page
    filtered = client.get(reverse("admin:imports_columnprofile_changelist") + "?kind=roster").text
    assert "国家医保信息平台结算清单" not in filtered
