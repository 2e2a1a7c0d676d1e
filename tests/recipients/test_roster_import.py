import datetime

import pytest
from openpyxl import Workbook

from audit.models import AuditEvent
from imports.services import ImportRejected, import_apply, import_confirm, import_validate
from recipients.demo import ROSTER_HEADERS, to_csv
from recipients.models import Identity, Person, RosterImport
from recipients.services import roster_import_create
from tests.factories import IdentityFactory, PersonFactory, valid_id_number

ID_A = valid_id_number(datetime.date(1956, 3, 8), female=True)
ID_B = valid_id_number(datetime.date(1972, 11, 30), female=False)
ID_C = valid_id_number(datetime.date(2012, 1, 2))


def row(
    id_number=ID_A,
    name="王秀英",
    category="低保",
    valid_from="2023-01-01",
    valid_to="",
    township="石鼓镇",
    village="石鼓村",
    phone="13812345678",
    bank="中国农业银行高州支行",
    account="6228480000123456789",
    source="",
):
    return [id_number, name, category, valid_from, valid_to, township, village, phone, bank, account, source]


def run_import(user, content, name="名册.csv", source="MZ", snapshot_date=None):
    """Upload, validate, confirm and apply as the web flow does, synchronously."""
    imp = roster_import_create(
        user=user, file_name=name, content=content, source=source, snapshot_date=snapshot_date, enqueue=False
    )
    imp = import_validate(kind="roster", pk=imp.pk)
    if imp.status != RosterImport.Status.VALID:
        return imp
    import_confirm(record=imp, user=user, enqueue=False)
    return import_apply(kind="roster", pk=imp.pk)


def assert_nothing_written():
    assert Person.objects.count() == 0
    assert Identity.objects.count() == 0


def errors_of(imp):
    return [(e["row"], e["column"]) for e in imp.errors]


@pytest.fixture
def setup(village, other_village, reviewer):
    return reviewer


# --- a good file ----------------------------------------------------------------------------


def test_valid_csv_creates_people_and_identities(setup):
    content = to_csv(
        [
            row(),
            row(category="TK", valid_from="2024/3/5"),
            row(id_number=ID_B, name="李建国", category="DB", valid_from="20220105", valid_to="2023-06-30", village=""),
        ]
    )
    imp = run_import(setup, content)
    assert imp.status == RosterImport.Status.DONE
    assert (imp.rows_added, imp.rows_changed, imp.rows_ended, imp.rows_unchanged) == (3, 0, 0, 0)
    assert imp.persons_added == 2
    a = Person.objects.get(id_number=ID_A)
    assert a.name == "王秀英" and a.sex == "F" and a.birth_date == datetime.date(1956, 3, 8)
    assert a.village.name == "石鼓村" and a.bank_account == "6228480000123456789"
    assert sorted(a.identities.values_list("category", "valid_from")) == [
        ("DB", datetime.date(2023, 1, 1)),
        ("TK", datetime.date(2024, 3, 5)),
    ]
    b = Identity.objects.get(person__id_number=ID_B)
    assert b.valid_to == datetime.date(2023, 6, 30) and b.source == "MZ"
    assert b.created_by_import_id == imp.pk


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_are_detected(setup, encoding):
    imp = run_import(setup, to_csv([row()], encoding=encoding))
    assert imp.status == RosterImport.Status.DONE
    assert Person.objects.get().name == "王秀英"


def test_xlsx_with_excel_date_cells_and_codes(setup):
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号", "乡镇（街道）", "救助类别", "认定日期", "备注"])  # other order, extra column
    ws.append(["王秀英", ID_A.lower(), "石鼓镇", "DB", datetime.date(2023, 1, 1), "随便"])
    import io

    buf = io.BytesIO()
    wb.save(buf)
    imp = run_import(setup, buf.getvalue(), name="名册.xlsx")
    assert imp.status == RosterImport.Status.DONE, imp.errors
    person = Person.objects.get()
    assert person.id_number == ID_A.upper()
    assert person.identities.get().valid_from == datetime.date(2023, 1, 1)


def test_source_column_overrides_default(setup):
    imp = run_import(setup, to_csv([row(source="乡村振兴", category="脱贫人口")]))
    assert imp.status == RosterImport.Status.DONE
    identity = Identity.objects.get()
    assert (identity.category, identity.source) == ("JD", "XCZX")


def test_import_history_records_file_and_counts(setup):
    content = to_csv([row()])
    imp = run_import(setup, content, name="2024年1月名册.csv")
    imp.refresh_from_db()
    assert imp.file_name == "2024年1月名册.csv"
    import hashlib

    assert imp.file_hash == hashlib.sha256(content).hexdigest()
    assert imp.created_by == setup and imp.applied_by == setup and imp.applied_at is not None
    apply_event = AuditEvent.objects.get(action="roster_import.apply", object_id=str(imp.pk))
    assert apply_event.after["added"] == 1 and apply_event.actor == setup
    actions = list(
        AuditEvent.objects.filter(object_type="recipients.rosterimport", object_id=str(imp.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["roster_import.upload", "roster_import.validate", "roster_import.confirm", "roster_import.apply"]


def test_validation_previews_the_counts_without_writing(setup):
    imp = roster_import_create(
        user=setup, file_name="a.csv", content=to_csv([row(), row(id_number=ID_B)]), source="MZ", enqueue=False
    )
    imp = import_validate(kind="roster", pk=imp.pk)
    assert imp.status == RosterImport.Status.VALID
    assert (imp.rows_added, imp.persons_added) == (2, 2)
    assert_nothing_written()


# --- idempotence and changes ----------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(setup):
    content = to_csv([row(), row(id_number=ID_B, name="李建国")])
    run_import(setup, content)
    before = sorted(Identity.objects.values_list("id", "valid_to", "source", "updated_at"))
    people_before = sorted(Person.objects.values_list("id", "name", "updated_at"))
    again = run_import(setup, content)
    assert again.status == RosterImport.Status.DONE
    assert (again.rows_added, again.rows_changed, again.rows_ended, again.rows_unchanged) == (0, 0, 0, 2)
    assert sorted(Identity.objects.values_list("id", "valid_to", "source", "updated_at")) == before
    assert sorted(Person.objects.values_list("id", "name", "updated_at")) == people_before


def test_changed_exit_date_and_person_fields_are_counted_as_changed(setup):
    run_import(setup, to_csv([row(), row(id_number=ID_B, name="李建国")]))
    imp = run_import(
        setup, to_csv([row(valid_to="2025-12-31"), row(id_number=ID_B, name="李建国", phone="13900001111")])
    )
    assert (imp.rows_added, imp.rows_changed, imp.rows_unchanged) == (0, 2, 0)
    assert Identity.objects.get(person__id_number=ID_A).valid_to == datetime.date(2025, 12, 31)
    assert Person.objects.get(id_number=ID_B).phone == "13900001111"


def test_empty_optional_cells_keep_registry_values(setup):
    run_import(setup, to_csv([row()]))
    run_import(setup, to_csv([row(phone="", bank="", account="", village="")]))
    person = Person.objects.get()
    assert person.phone == "13812345678"
    assert person.bank_account == "6228480000123456789"
    assert person.village.name == "石鼓村"


def test_moving_township_without_village_drops_old_village(setup):
    run_import(setup, to_csv([row()]))
    run_import(setup, to_csv([row(township="东岸镇", village="")]))
    person = Person.objects.get()
    assert person.township.name == "东岸镇" and person.village is None


# --- snapshot mode --------------------------------------------------------------------------


def test_snapshot_ends_absent_identities_of_that_source_only(setup):
    run_import(
        setup, to_csv([row(), row(id_number=ID_B, name="李建国"), row(id_number=ID_C, name="王小明", category="TK")])
    )
    run_import(setup, to_csv([row(id_number=ID_C, name="王小明", category="JD", source="乡村振兴")]), source="XCZX")
    snapshot = datetime.date(2025, 12, 1)
    imp = run_import(setup, to_csv([row()]), snapshot_date=snapshot)
    assert imp.status == RosterImport.Status.DONE
    assert (imp.rows_added, imp.rows_changed, imp.rows_ended, imp.rows_unchanged) == (0, 0, 2, 1)
    assert Identity.objects.get(person__id_number=ID_A).valid_to is None
    assert Identity.objects.get(person__id_number=ID_B).valid_to == datetime.date(2025, 11, 30)
    assert Identity.objects.get(person__id_number=ID_C, category="TK").valid_to == datetime.date(2025, 11, 30)
    # another department's identity is not touched by a 民政 snapshot
    assert Identity.objects.get(person__id_number=ID_C, category="JD").valid_to is None
    # and a repeated snapshot ends nothing more
    again = run_import(setup, to_csv([row()]), snapshot_date=snapshot)
    assert (again.rows_ended, again.rows_unchanged) == (0, 1)


def test_snapshot_keeps_identities_it_adds_and_ends_only_absent_ones(setup):
    run_import(setup, to_csv([row(), row(id_number=ID_B, name="李建国")]))
    imp = run_import(
        setup,
        to_csv([row(), row(id_number=ID_C, name="王小明", category="TK", valid_from="2025-10-01")]),
        snapshot_date=datetime.date(2025, 12, 1),
    )
    assert (imp.rows_added, imp.rows_ended, imp.rows_unchanged) == (1, 1, 1)
    assert Identity.objects.get(person__id_number=ID_C).valid_to is None
    assert Identity.objects.get(person__id_number=ID_A).valid_to is None
    assert Identity.objects.get(person__id_number=ID_B).valid_to == datetime.date(2025, 11, 30)


def test_snapshot_into_an_empty_registry_ends_nothing(setup):
    imp = run_import(
        setup, to_csv([row(), row(id_number=ID_B, name="李建国")]), snapshot_date=datetime.date(2025, 12, 1)
    )
    assert (imp.rows_added, imp.rows_ended) == (2, 0)
    assert not Identity.objects.filter(valid_to__isnull=False).exists()


def test_snapshot_leaves_identities_already_ended_before_the_snapshot(setup):
    run_import(setup, to_csv([row(), row(id_number=ID_B, name="李建国", valid_to="2024-05-31")]))
    imp = run_import(setup, to_csv([row()]), snapshot_date=datetime.date(2025, 12, 1))
    assert imp.rows_ended == 0
    assert Identity.objects.get(person__id_number=ID_B).valid_to == datetime.date(2024, 5, 31)


def test_clerk_snapshot_only_ends_identities_in_own_township(clerk, village, other_village, reviewer):
    run_import(
        reviewer,
        to_csv(
            [
                row(),
                row(id_number=ID_B, name="李建国", township="东岸镇", village="东岸村"),
                row(id_number=ID_C, name="王小明"),
            ]
        ),
    )
    imp = run_import(clerk, to_csv([row()]), snapshot_date=datetime.date(2025, 12, 1))
    assert imp.status == RosterImport.Status.DONE
    assert imp.rows_ended == 1
    assert Identity.objects.get(person__id_number=ID_C).valid_to == datetime.date(2025, 11, 30)
    assert Identity.objects.get(person__id_number=ID_B).valid_to is None


# --- bad input: a clear error naming row and column, and nothing written -------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("名册.txt", b"abc", "只接受 .xlsx 或 .csv"),
        ("名册.xls", b"\xd0\xcf\x11\xe0abc", ".xls"),
        ("名册.pdf", b"%PDF-1.4", "只接受 .xlsx 或 .csv"),
    ],
)
def test_wrong_file_type_is_refused_at_upload(setup, name, content, message):
    with pytest.raises(ImportRejected, match=message.replace(".", r"\.")):
        roster_import_create(user=setup, file_name=name, content=content, source="MZ", enqueue=False)
    assert RosterImport.objects.count() == 0


def test_xlsx_extension_with_other_content_is_rejected(setup):
    imp = run_import(setup, b"this is not a workbook", name="名册.xlsx")
    assert imp.status == RosterImport.Status.INVALID
    assert "不是有效的 Excel 文件" in imp.errors[0]["reason"]
    assert_nothing_written()


def test_missing_required_column_is_named(setup):
    headers = [h for h in ROSTER_HEADERS if h != "认定日期"]
    content = to_csv([[c for i, c in enumerate(row()) if ROSTER_HEADERS[i] != "认定日期"]], headers=headers)
    imp = run_import(setup, content)
    assert imp.status == RosterImport.Status.INVALID
    assert imp.errors == [{"row": 1, "column": "认定日期", "value": "", "reason": "缺少必填列“认定日期”"}]
    assert_nothing_written()


@pytest.mark.parametrize(
    ("bad", "column", "reason"),
    [
        ({"id_number": ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")}, "身份证号", "校验位错误"),
        ({"id_number": "440981" + "19991332" + "0011"}, "身份证号", "出生日期不是有效日期"),
        ({"id_number": "4.40981E+17"}, "身份证号", "科学计数法"),
        ({"id_number": "440981560308002"}, "身份证号", "15 位旧身份证号"),
        ({"id_number": "44098119560308AB2X"}, "身份证号", "只能由数字组成"),
        ({"township": "不存在镇"}, "乡镇（街道）", "系统中没有这个乡镇"),
        ({"village": "不存在村"}, "村（社区）", "下没有这个村"),
        ({"category": "贫困户"}, "救助类别", "未知的救助类别"),
        ({"valid_from": "2024-02-30"}, "认定日期", "不是有效日期"),
        ({"valid_from": "3/5/2024"}, "认定日期", "日期格式不对"),
        ({"valid_from": ""}, "认定日期", "不能为空"),
        ({"valid_from": "2024-03-05", "valid_to": "2024-03-04"}, "退出日期", "退出日期早于认定日期"),
        ({"name": ""}, "姓名", "不能为空"),
        ({"account": "6228-48a"}, "银行账号", "只能是 6 至 32 位数字"),
        ({"phone": "电话号码"}, "联系电话", "格式不对"),
        ({"source": "统计局"}, "数据来源", "未知的数据来源"),
    ],
)
def test_bad_cell_is_reported_with_row_and_column(setup, bad, column, reason):
    good = row(id_number=ID_B, name="李建国")
    imp = run_import(setup, to_csv([good, row(**bad)]))
    assert imp.status == RosterImport.Status.INVALID
    assert (3, column) in errors_of(imp), imp.errors
    assert any(reason in e["reason"] for e in imp.errors), imp.errors
    assert_nothing_written()


def test_excel_number_cell_id_is_rejected(setup):
    wb = Workbook()
    ws = wb.active
    ws.append(["身份证号", "姓名", "救助类别", "认定日期", "乡镇（街道）"])
    ws.append([int(ID_B[:17] + "0") if ID_B[-1] == "X" else int(ID_B), "李建国", "低保", "2023-01-01", "石鼓镇"])
    import io

    buf = io.BytesIO()
    wb.save(buf)
    imp = run_import(setup, buf.getvalue(), name="名册.xlsx")
    assert imp.status == RosterImport.Status.INVALID
    assert imp.errors[0]["row"] == 2 and imp.errors[0]["column"] == "身份证号"
    assert "超过 15 位的部分已丢失" in imp.errors[0]["reason"]
    assert_nothing_written()


def test_error_report_masks_personal_data(setup):
    bad_id = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")
    imp = run_import(setup, to_csv([row(id_number=bad_id, phone="电话13812345678", account="6228480000123456789a")]))
    values = {e["column"]: e["value"] for e in imp.errors}
    assert values["身份证号"] == bad_id[:4] + "*" * 10 + bad_id[-4:]
    assert "13812345678" not in values["联系电话"]
    assert "6228480000123456789" not in values["银行账号"]


def test_duplicate_rows_in_one_file_are_rejected(setup):
    imp = run_import(setup, to_csv([row(), row(id_number=ID_B, name="李建国"), row()]))
    assert imp.status == RosterImport.Status.INVALID
    assert imp.errors[0]["row"] == 4 and "与第 2 行重复" in imp.errors[0]["reason"]
    assert_nothing_written()


def test_conflicting_person_fields_in_one_file_are_rejected(setup):
    imp = run_import(setup, to_csv([row(), row(category="TK", name="王秀兰")]))
    assert imp.status == RosterImport.Status.INVALID
    assert (3, "姓名") in errors_of(imp)
    assert_nothing_written()


def test_every_bad_row_is_reported_not_just_the_first(setup):
    rows = [
        row(id_number=valid_id_number(datetime.date(1950, 1, 1) + datetime.timedelta(days=i)), township="无此镇")
        for i in range(30)
    ]
    imp = run_import(setup, to_csv(rows))
    assert imp.error_count == 30
    assert [e["row"] for e in imp.errors] == list(range(2, 32))
    assert_nothing_written()


def test_one_bad_row_rejects_the_whole_file_and_leaves_existing_data(setup):
    run_import(setup, to_csv([row()]))
    before = list(Identity.objects.values_list("id", "valid_to"))
    imp = run_import(setup, to_csv([row(valid_to="2025-01-31"), row(id_number=ID_B, name="李建国", category="??")]))
    assert imp.status == RosterImport.Status.INVALID
    assert list(Identity.objects.values_list("id", "valid_to")) == before
    assert Person.objects.count() == 1


def test_empty_file_and_header_only_are_rejected(setup):
    with pytest.raises(ImportRejected, match="空的"):
        roster_import_create(user=setup, file_name="a.csv", content=b"", source="MZ", enqueue=False)
    imp = run_import(setup, to_csv([]))
    assert imp.status == RosterImport.Status.INVALID
    assert "没有数据行" in imp.errors[0]["reason"]


def test_clerk_cannot_import_other_township_rows(clerk, other_village, village):
    imp = run_import(clerk, to_csv([row(), row(id_number=ID_B, name="李建国", township="东岸镇", village="东岸村")]))
    assert imp.status == RosterImport.Status.INVALID
    assert (3, "乡镇（街道）") in errors_of(imp)
    assert "只能导入本乡镇" in imp.errors[0]["reason"]
    assert_nothing_written()


def test_clerk_cannot_move_a_person_from_another_township(clerk, village, other_township):
    person = PersonFactory(id_number=ID_A, township=other_township)
    IdentityFactory(person=person)
    imp = run_import(clerk, to_csv([row()]))
    assert imp.status == RosterImport.Status.INVALID
    assert "已登记在其他乡镇" in imp.errors[0]["reason"]
    assert "东岸镇" not in imp.errors[0]["reason"]  # a clerk does not learn where others live
    person.refresh_from_db()
    assert person.township == other_township


def test_apply_rechecks_the_file_and_writes_nothing_if_it_became_invalid(setup, village):
    imp = roster_import_create(user=setup, file_name="a.csv", content=to_csv([row()]), source="MZ", enqueue=False)
    import_validate(kind="roster", pk=imp.pk)
    import_confirm(record=imp, user=setup, enqueue=False)
    village.name = "改名村"
    village.save()
    imp = import_apply(kind="roster", pk=imp.pk)
    assert imp.status == RosterImport.Status.INVALID
    assert_nothing_written()


def test_confirm_twice_is_refused(setup):
    imp = run_import(setup, to_csv([row()]))
    with pytest.raises(ImportRejected):
        import_confirm(record=imp, user=setup, enqueue=False)
    # a second delivery of the apply task changes nothing
    again = import_apply(kind="roster", pk=imp.pk)
    assert again.status == RosterImport.Status.DONE
    assert Identity.objects.count() == 1


# --- found in review ------------------------------------------------------------------------


def test_control_characters_are_rejected_not_stored(setup):
    imp = run_import(setup, to_csv([row(name="王秀\x00英"), row(id_number=ID_B, name="李建国", village="石鼓\x07村")]))
    assert imp.status == RosterImport.Status.INVALID
    assert {(e["row"], e["column"]) for e in imp.errors} == {(2, "姓名"), (3, "村（社区）")}
    assert all("控制字符" in e["reason"] for e in imp.errors)
    assert_nothing_written()


def test_bom_followed_by_invalid_utf8_is_a_readable_error(setup):
    imp = run_import(setup, b"\xef\xbb\xbf" + "身份证号,姓名\n".encode() + b"\xff\xfe\n")
    assert imp.status == RosterImport.Status.INVALID
    assert "UTF-8" in imp.errors[0]["reason"]


def test_full_width_digits_are_read_as_the_same_person(setup):
    full_width = ID_A.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    run_import(setup, to_csv([row()]))
    imp = run_import(
        setup, to_csv([row(id_number=full_width, category="TK", account="６２２８４８００００１２３４５６７８９")])
    )
    assert imp.status == RosterImport.Status.DONE, imp.errors
    assert Person.objects.count() == 1
    assert Person.objects.get().bank_account == "6228480000123456789"


@pytest.mark.parametrize("name", ["建档立卡贫困人口 / 脱贫人口", "因病致贫重病患者/支出型重病患者", "脱贫户", "jd"])
def test_category_names_as_departments_write_them(setup, name):
    imp = run_import(setup, to_csv([row(category=name)]))
    assert imp.status == RosterImport.Status.DONE, imp.errors


def test_snapshot_date_in_the_future_is_refused(setup):
    with pytest.raises(ImportRejected, match="快照日期不能晚于今天"):
        roster_import_create(
            user=setup,
            file_name="a.csv",
            content=to_csv([row()]),
            source="MZ",
            snapshot_date=datetime.date(2999, 1, 1),
            enqueue=False,
        )


def test_clerk_import_rechecks_township_under_the_lock(clerk, reviewer, village, other_village):
    """A county import moves the person away between the clerk's validation and confirmation."""
    imp = roster_import_create(user=clerk, file_name="a.csv", content=to_csv([row()]), source="MZ", enqueue=False)
    assert import_validate(kind="roster", pk=imp.pk).status == RosterImport.Status.VALID
    import_confirm(record=imp, user=clerk, enqueue=False)
    run_import(reviewer, to_csv([row(township="东岸镇", village="东岸村")]))
    imp = import_apply(kind="roster", pk=imp.pk)
    assert imp.status == RosterImport.Status.INVALID
    assert "已登记在其他乡镇" in imp.errors[0]["reason"]
    assert Person.objects.get().township.name == "东岸镇"


def test_system_error_during_validation_marks_the_import_failed(setup, monkeypatch):
    import recipients.import_format as roster_format

    def broken(*args, **kwargs):
        raise RuntimeError("disk full: 44098119560308002X")

    monkeypatch.setattr(roster_format, "apply_roster", broken)
    imp = roster_import_create(user=setup, file_name="a.csv", content=to_csv([row()]), source="MZ", enqueue=False)
    with pytest.raises(RuntimeError):
        import_validate(kind="roster", pk=imp.pk)
    imp.refresh_from_db()
    assert imp.status == RosterImport.Status.FAILED
    assert "系统错误" in imp.message and "4409" not in imp.message
    assert_nothing_written()


@pytest.mark.postgres
def test_a_large_roster_has_fresh_statistics_before_it_announces(reviewer, township):
    """The cross-check requested from the announcement is planned for the new people and identities."""
    from django.db import connection

    from recipients.signals import roster_applied

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    seen = {}

    def look(sender, **kwargs):
        with connection.cursor() as cursor:
            for table in ("recipients_person", "recipients_identity"):
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
                seen[table] = cursor.fetchone()[0]

    birthdays = [datetime.date(1950, 1, 1) + datetime.timedelta(days=k) for k in range(2000)]
    content = to_csv([row(id_number=valid_id_number(day), village="") for day in birthdays])
    roster_applied.connect(look)
    try:
        imp = run_import(reviewer, content)
    finally:
        roster_applied.disconnect(look)
    assert imp.status == RosterImport.Status.DONE
    assert seen == {"recipients_person": 2000, "recipients_identity": 2000}
