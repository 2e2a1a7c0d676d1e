"""load_regions FILE: counties, townships and villages with their division codes, idempotent, all-or-nothing."""

from io import BytesIO, StringIO

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from recipients.models import County, Township, Village

pytestmark = pytest.mark.django_db

ROWS = [
    ("440900", "茂名市"),  # the prefecture: skipped
    ("440981", "高州市"),
    ("440981100", "石鼓镇"),
    ("440981100001", "石鼓村"),
    ("440981100002", "新村"),
    ("440981101", "曹江镇"),
    ("440982", "化州市"),
    ("440982100", "河西街道"),
    ("440982100201", "新村"),  # the same village name under another township
]


def _csv(tmp_path, rows, name="regions.csv", header=("行政区划代码", "名称")):
    path = tmp_path / name
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8-sig")
    return path


def _load(path):
    out = StringIO()
    call_command("load_regions", str(path), stdout=out, stderr=StringIO())
    return out.getvalue()


def _refused(path) -> str:
    err = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("load_regions", str(path), stdout=StringIO(), stderr=err)
    return f"{refused.value}\n{err.getvalue()}"


def _tree():
    return sorted(
        (v.township.county.code, v.township.county.name, v.township.code, v.township.name, v.code, v.name)
        for v in Village.objects.select_related("township__county")
    ) + sorted((t.county.code, t.code, t.name) for t in Township.objects.select_related("county"))


def test_a_csv_loads_counties_townships_and_villages_with_their_codes(tmp_path):
    out = _load(_csv(tmp_path, ROWS))
    assert "县（区）：新增 2" in out and "乡镇（街道）：新增 3" in out and "村（社区）：新增 3" in out
    assert "跳过省、市级行 1 行" in out
    assert dict(County.objects.values_list("code", "name")) == {"440981": "高州市", "440982": "化州市"}
    shigu = Township.objects.get(code="440981100")
    assert shigu.name == "石鼓镇" and shigu.county.code == "440981"
    assert sorted(shigu.villages.values_list("code", "name")) == [("440981100001", "石鼓村"), ("440981100002", "新村")]
    assert Village.objects.get(code="440982100201").township.name == "河西街道"
    event = AuditEvent.objects.get(action="regions.load")
    assert event.after["villages"]["added"] == 3


def test_loading_the_same_file_again_changes_nothing(tmp_path):
    path = _csv(tmp_path, ROWS)
    _load(path)
    before = _tree()
    out = _load(path)
    assert "县（区）：新增 0，改名 0，补充代码 0，不变 2" in out
    assert "村（社区）：新增 0，改名 0，补充代码 0，不变 3" in out
    assert _tree() == before


def test_an_xlsx_with_the_statistics_offices_twelve_digit_codes(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["统计用区划代码", "名称"])
    for code, name in [("440981000000", "高州市"), ("440981100000", "石鼓镇"), ("440981100001", "石鼓村")]:
        sheet.append([code, name])
    buffer = BytesIO()
    workbook.save(buffer)
    path = tmp_path / "区划.xlsx"
    path.write_bytes(buffer.getvalue())
    _load(path)
    assert Township.objects.get(code="440981100").county.code == "440981"
    assert Village.objects.get(code="440981100001").name == "石鼓村"


def test_a_township_typed_without_a_code_is_matched_by_name_and_renames_follow_the_code(tmp_path):
    county = County.objects.create(code="440981", name="高州市")
    typed = Township.objects.create(county=county, name="石鼓镇")
    out = _load(_csv(tmp_path, ROWS[1:4]))
    typed.refresh_from_db()
    assert typed.code == "440981100" and "乡镇（街道）：新增 0，改名 0，补充代码 1" in out
    renamed = [("440981", "高州市"), ("440981100", "石鼓街道"), ("440981100001", "石鼓村")]
    out = _load(_csv(tmp_path, renamed, name="renamed.csv"))
    typed.refresh_from_db()
    assert typed.name == "石鼓街道" and "乡镇（街道）：新增 0，改名 1" in out
    assert Township.objects.count() == 1


def test_a_parent_may_be_stored_already(tmp_path):
    _load(_csv(tmp_path, ROWS[1:3]))
    _load(_csv(tmp_path, [("440981100003", "山美村")], name="more.csv"))
    assert Village.objects.get(code="440981100003").township.code == "440981100"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("440981", "高州市"), ("44098110", "石鼓镇")], "代码应为 6 位（县）、9 位（乡镇）或 12 位（村）"),
        ([("440981", "高州市"), ("4409811OO", "石鼓镇")], "代码只能由数字组成"),
        ([("440981", "高州市"), ("440981100", "")], "代码 440981100 没有名称"),
        ([("440981", "高州市"), ("440981", "高州")], "第 5 行：代码 440981 与第 4 行重复"),
        ([("440981", "高州市"), ("440983100", "信宜镇")], "上级代码 440983 不在文件中，系统中也没有"),
        ([("440981", "高州市"), ("440981100", "石鼓镇"), ("440981101", "石鼓镇")], "同名，且属于同一上级"),
    ],
)
def test_a_bad_row_refuses_the_whole_file(tmp_path, rows, message):
    good = [("440982", "化州市"), ("440982100", "河西街道")]
    text = _refused(_csv(tmp_path, good + rows))
    assert message in text and "未写入任何数据" in text
    assert not County.objects.exists() and not Township.objects.exists()
    assert not AuditEvent.objects.filter(action="regions.load").exists()


def test_a_file_without_the_two_columns_or_of_another_type_is_refused(tmp_path):
    assert "一列代码" in _refused(_csv(tmp_path, [("440981", "高州市")], header=("编号", "名称")))
    other = tmp_path / "regions.txt"
    other.write_text("440981,高州市\n", encoding="utf-8")
    assert "只接受 .xlsx 或 .csv" in _refused(other)
    assert "找不到文件" in _refused(tmp_path / "missing.csv")
    assert not County.objects.exists()


def test_a_name_with_a_control_character_is_refused(tmp_path):
    refused = _refused(_csv(tmp_path, [("440981", "高州市"), ("440981100", "坏\x00镇"), ("440981101", "曹\x01江镇")]))
    assert "第 3 行：含有不可见的控制字符" in refused and "第 4 行：含有不可见的控制字符" in refused
    assert not County.objects.exists() and not Township.objects.exists()
