"""The settlement import pages, the settlement browser and the person page's settlements, through the client."""

import datetime
import random
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from imports.services import import_apply, import_confirm, import_create, import_validate
from recipients.demo import to_csv
from settlements import demo
from settlements.models import Settlement, SettlementImport
from tests.conftest import client_for
from tests.factories import PersonFactory, valid_id_number

S = SettlementImport.Status
OWN_ID = valid_id_number(datetime.date(1956, 3, 8), female=True)
UNREGISTERED_ID = valid_id_number(datetime.date(1961, 7, 2))


@pytest.fixture
def own_person(township):
    return PersonFactory(name="王秀英", township=township, id_number=OWN_ID)


@pytest.fixture
def foreign_person(other_township):
    return PersonFactory(name="李建国", township=other_township)


def _rows(*people, n=2, seed=1, prefix="JS2025"):
    """`n` settlements for each (id_number, name), with service dates in 2025."""
    rng = random.Random(seed)
    rows = []
    for id_number, name in people:
        for k in range(n):
            number = f"{prefix}{len(rows):04d}"
            day = datetime.date(2025, 3, 1) + datetime.timedelta(days=10 * k)
            rows.append(demo.settlement_row(rng, number, id_number, name, service_date=day))
    return rows


def _csv(rows) -> bytes:
    return to_csv(rows, headers=demo.HEADERS)


def _upload(client, content: bytes, name="2025年3月结算.csv"):
    return client.post(reverse("settlements:import_upload"), {"file": SimpleUploadedFile(name, content)})


def _wait_for(record, status, timeout=30):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record.refresh_from_db()
        if record.status == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"import stayed {record.status}, expected {status}")


def _county_import():
    """The county's own settlement import: what makes settlements of people not in its registry the county's."""
    from recipients.models import County

    return SettlementImport.objects.get_or_create(
        file_name="县结算.csv", file_hash="1" * 64, file_size=1, county=County.objects.get()
    )[0]


def _settlement(number, id_number, *, hospital="高州市人民医院", total="1000.00", onestop="0", **extra):
    values = {
        "last_import": _county_import(),
        "name": "张三",
        "visit_type": "门诊",
        "visit_on": datetime.date(2025, 4, 1),
        "service_date": datetime.date(2025, 4, 1),
        "settled_on": datetime.date(2025, 4, 1),
        "total": Decimal(total),
        "in_policy": Decimal(total) * Decimal("0.8"),
        "basic": Decimal(total) * Decimal("0.4"),
        "onestop": Decimal(onestop),
        "diagnosis": "C34.9 肺恶性肿瘤",
        **extra,
    }
    return Settlement.objects.create(number=number, id_number=id_number, hospital=hospital, **values)


# --- web import flow ------------------------------------------------------------------------


def test_reviewer_uploads_sees_preview_and_confirms(client, reviewer, township, task_worker):
    PersonFactory(name="王秀英", township=township, id_number=OWN_ID)
    client_for(client, reviewer)
    response = _upload(client, _csv(_rows((OWN_ID, "王秀英"), (UNREGISTERED_ID, "赵六"))))
    assert response.status_code == 302
    record = SettlementImport.objects.get()
    _wait_for(record, S.VALID)
    page = client.get(response.url).text
    assert "校验通过" in page and "新增结算记录 <strong>4</strong> 条" in page
    assert "2 条结算的身份证号不在救助对象名册中（已保存；身份补录后会参与主动救助比对）" in page
    assert 'data-confirm="确认导入？导入后 4 条新增、0 条更新将写入结算数据，不能撤销。"' in page  # it asks first
    assert Settlement.objects.count() == 0  # nothing written before confirmation

    response = client.post(reverse("settlements:import_confirm", args=[record.pk]))
    assert response.status_code == 302
    _wait_for(record, S.DONE)
    assert Settlement.objects.count() == 4
    assert set(Settlement.objects.values_list("last_import", flat=True)) == {record.pk}
    page = client.get(reverse("settlements:import_detail", args=[record.pk])).text
    assert "已于" in page and "新增 4 条" in page
    listing = client.get(reverse("settlements:import_list")).text
    assert "2025年3月结算.csv" in listing and record.file_hash[:12] in listing


def test_reimport_with_changed_values_lists_the_updated_numbers(client, reviewer, task_worker):
    rows = _rows((UNREGISTERED_ID, "赵六"), n=3)
    first = import_create(kind="settlement", user=reviewer, file_name="a.csv", content=_csv(rows), enqueue=False)
    import_validate(kind="settlement", pk=first.pk)
    import_confirm(record=first, user=reviewer, enqueue=False)
    import_apply(kind="settlement", pk=first.pk)
    assert Settlement.objects.count() == 3

    rows[1][demo.HEADERS.index("医疗总费用")] = str(Decimal(rows[1][demo.HEADERS.index("医疗总费用")]) + 1)
    client_for(client, reviewer)
    response = _upload(client, _csv(rows), name="b.csv")
    record = SettlementImport.objects.get(file_name="b.csv")
    _wait_for(record, S.VALID)
    page = client.get(response.url).text
    assert "更新 <strong>1</strong> 条" in page and "无变化 2 条" in page
    assert "将更新的结算单号" in page and rows[1][0] in page


def test_bad_file_shows_every_error_and_the_report_downloads(client, reviewer, task_worker):
    rows = _rows((UNREGISTERED_ID, "赵六"), n=2)
    rows[0][demo.HEADERS.index("身份证号")] = "123"
    rows[1][demo.HEADERS.index("就诊类型")] = "急诊"
    client_for(client, reviewer)
    response = _upload(client, _csv(rows), name="bad.csv")
    record = SettlementImport.objects.get()
    _wait_for(record, S.INVALID)
    page = client.get(response.url).text
    assert "校验未通过" in page and "没有写入任何数据" in page
    assert "就诊类型应为 门诊、门诊慢特病 或 住院" in page and "急诊" in page
    assert record.error_count == 2
    assert "确认导入" not in page

    download = client.get(reverse("settlements:import_errors_download", args=[record.pk]))
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    rows_out = list(load_workbook(BytesIO(download.content)).active.values)
    assert rows_out[0] == ("行号", "列", "值", "原因") and len(rows_out) == 3
    assert (3, "就诊类型", "急诊", "就诊类型应为 门诊、门诊慢特病 或 住院") in rows_out
    assert Settlement.objects.count() == 0


def test_upload_form_rejects_wrong_extension(client, reviewer):
    client_for(client, reviewer)
    response = _upload(client, b"x", name="结算.xls")
    assert response.status_code == 200 and "不支持旧版 .xls 文件" in response.text
    response = _upload(client, b"x", name="结算.docx")
    assert "只接受 .xlsx 或 .csv" in response.text
    assert SettlementImport.objects.count() == 0


def test_empty_file_is_rejected_by_the_service(client, reviewer):
    client_for(client, reviewer)
    response = client.post(
        reverse("settlements:import_upload"), {"file": SimpleUploadedFile("空.csv", b"x")}, follow=True
    )
    assert response.status_code == 200
    # Django drops a zero-byte upload itself; a file the service refuses shows its reason on the form.
    from django.test import override_settings

    with override_settings(SETTLEMENT_MAX_UPLOAD_BYTES=1):
        response = _upload(client, b"ab", name="大.csv")
    assert response.status_code == 200 and "文件过大" in response.text


def test_cancel_then_confirm_is_refused_with_a_message(client, reviewer):
    record = import_create(
        kind="settlement",
        user=reviewer,
        file_name="a.csv",
        content=_csv(_rows((UNREGISTERED_ID, "赵六"))),
        enqueue=False,
    )
    import_validate(kind="settlement", pk=record.pk)
    client_for(client, reviewer)
    page = client.post(reverse("settlements:import_cancel", args=[record.pk]), follow=True).text
    assert "已取消本次导入" in page
    page = client.post(reverse("settlements:import_confirm", args=[record.pk]), follow=True).text
    assert "该文件当前状态不能确认导入" in page
    record.refresh_from_db()
    assert record.status == S.CANCELLED and Settlement.objects.count() == 0


def test_running_import_polls_and_htmx_gets_the_status_fragment(client, reviewer):
    record = import_create(kind="settlement", user=reviewer, file_name="a.csv", content=b"x,y\n", enqueue=False)
    client_for(client, reviewer)
    page = client.get(reverse("settlements:import_detail", args=[record.pk])).text
    assert 'hx-trigger="every 1s"' in page
    fragment = client.get(reverse("settlements:import_detail", args=[record.pk]), HTTP_HX_REQUEST="true").text
    assert fragment.lstrip().startswith('<div id="import-status"') and "<html" not in fragment


@pytest.mark.parametrize("role", ["clerk", "approver", "finance", "supervisor"])
def test_roles_without_import_permission_get_403(client, request, role):
    client_for(client, request.getfixturevalue(role))
    assert client.get(reverse("settlements:import_upload")).status_code == 403
    assert client.post(reverse("settlements:import_upload")).status_code == 403
    assert client.get(reverse("settlements:import_template")).status_code == 403
    assert client.post(reverse("settlements:import_confirm", args=[1])).status_code == 403


def test_supervisor_sees_imports_but_not_the_buttons(client, supervisor, reviewer):
    record = import_create(
        kind="settlement",
        user=reviewer,
        file_name="a.csv",
        content=_csv(_rows((UNREGISTERED_ID, "赵六"))),
        enqueue=False,
    )
    import_validate(kind="settlement", pk=record.pk)
    client_for(client, supervisor)
    assert "a.csv" in client.get(reverse("settlements:import_list")).text
    page = client.get(reverse("settlements:import_detail", args=[record.pk])).text
    assert "校验通过" in page and "确认导入" not in page


def test_clerk_cannot_see_import_pages(client, clerk):
    client_for(client, clerk)
    assert client.get(reverse("settlements:import_list")).status_code == 403


def test_blank_template_has_the_headers_and_a_text_id_column(client, reviewer):
    client_for(client, reviewer)
    response = client.get(reverse("settlements:import_template"))
    assert response.status_code == 200
    workbook = load_workbook(BytesIO(response.content))
    sheet = workbook["结算数据"]
    assert [c.value for c in sheet[1]] == demo.HEADERS
    assert sheet.column_dimensions["B"].number_format == "@"  # 身份证号
    assert sheet.column_dimensions["A"].number_format == "@"  # 结算单号
    # a filled-in template is accepted
    sheet.append(_rows((UNREGISTERED_ID, "赵六"), n=1)[0])
    buffer = BytesIO()
    workbook.save(buffer)
    record = import_create(
        kind="settlement", user=reviewer, file_name="模板.xlsx", content=buffer.getvalue(), enqueue=False
    )
    assert import_validate(kind="settlement", pk=record.pk).status == S.VALID


# --- settlement browser ---------------------------------------------------------------------


def test_hospital_list_aggregates_per_hospital_and_filters_by_year(client, reviewer):
    _settlement("A1", OWN_ID, hospital="高州市人民医院", total="1000.00", onestop="0")
    _settlement("A2", OWN_ID, hospital="高州市人民医院", total="250.50", onestop="10.00")
    _settlement("A3", UNREGISTERED_ID, hospital="高州市人民医院", total="100.00", onestop="0")
    _settlement("B1", OWN_ID, hospital="曹江镇卫生院", total="80.00", onestop="5.00")
    old = datetime.date(2024, 6, 1)
    _settlement("B2", OWN_ID, hospital="曹江镇卫生院", total="70.00", visit_on=old, service_date=old, settled_on=old)
    client_for(client, reviewer)
    response = client.get(reverse("settlements:hospital_list"))
    assert response.status_code == 200
    hospitals = {h["hospital"]: h for h in response.context["hospitals"]}
    assert hospitals["高州市人民医院"]["count"] == 3
    assert hospitals["高州市人民医院"]["total"] == Decimal("1350.50")
    assert hospitals["高州市人民医院"]["without_onestop"] == 2
    assert (hospitals["曹江镇卫生院"]["count"], hospitals["曹江镇卫生院"]["without_onestop"]) == (2, 1)
    assert "1,350.50" in response.text
    assert response.context["totals"]["count"] == 5

    in_2024 = {
        h["hospital"]: h for h in client.get(reverse("settlements:hospital_list"), {"year": 2024}).context["hospitals"]
    }
    assert list(in_2024) == ["曹江镇卫生院"] and in_2024["曹江镇卫生院"]["total"] == Decimal("70.00")


def test_hospital_list_is_one_query_over_the_settlements_kept_until_they_change(client, reviewer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for k in range(20):
        _settlement(f"Q{k}", OWN_ID, hospital=f"医院{k % 4}")
    client_for(client, reviewer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("settlements:hospital_list"))
    assert len(response.context["hospitals"]) == 4

    def reads(queries):  # queries that read the settlements' rows (not the max() lookups of the version)
        return [q for q in queries if "FROM settlements_settlement s" in q["sql"]]

    assert len(reads(queries)) == 1
    # Kept until the settlements change: a second view reads no row, a new settlement is counted at once.
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("settlements:hospital_list"))
    assert reads(queries) == []
    _settlement("Q99", OWN_ID, hospital="医院9")
    assert len(client.get(reverse("settlements:hospital_list")).context["hospitals"]) == 5


def test_clerk_sees_only_own_township_settlements_in_the_browser(client, clerk, own_person, foreign_person):
    _settlement("OWN1", own_person.id_number, hospital="高州市人民医院")
    _settlement("FOR1", foreign_person.id_number, hospital="高州市人民医院")
    _settlement("FOR2", foreign_person.id_number, hospital="东岸镇卫生院")
    _settlement("UNR1", UNREGISTERED_ID, hospital="高州市人民医院")
    client_for(client, clerk)
    hospitals = client.get(reverse("settlements:hospital_list")).context["hospitals"]
    assert [(h["hospital"], h["count"]) for h in hospitals] == [("高州市人民医院", 1)]
    page = client.get(reverse("settlements:settlement_list"), {"hospital": "高州市人民医院"}).text
    assert "OWN1" in page and "FOR1" not in page and "UNR1" not in page
    assert "FOR2" not in client.get(reverse("settlements:settlement_list"), {"hospital": "东岸镇卫生院"}).text


def test_settlement_list_masks_ids_and_never_shows_the_diagnosis(client, reviewer, own_person):
    _settlement("JS1", own_person.id_number, hospital="高州市人民医院", major_disease=True, out_of_area=True)
    _settlement("JS2", UNREGISTERED_ID, hospital="高州市人民医院")
    client_for(client, reviewer)  # may reveal full PII on the person page, still masked here
    page = client.get(reverse("settlements:settlement_list"), {"hospital": "高州市人民医院"}).text
    assert "JS1" in page and "JS2" in page
    assert own_person.id_number not in page and OWN_ID[:4] + "**********" + OWN_ID[-4:] in page
    assert UNREGISTERED_ID not in page
    assert "C34.9" not in page and "肺恶性肿瘤" not in page
    assert reverse("recipients:person_detail", args=[own_person.pk]) in page
    assert "名册外" in page


def test_settlement_list_paginates_by_50(client, reviewer):
    Settlement.objects.bulk_create(
        [
            Settlement(
                number=f"P{k:03d}",
                id_number=UNREGISTERED_ID,
                last_import=_county_import(),
                name="赵六",
                hospital="高州市人民医院",
                visit_type="门诊",
                visit_on=datetime.date(2025, 1, 1),
                service_date=datetime.date(2025, 1, 1),
                settled_on=datetime.date(2025, 1, 1),
                total=Decimal("10"),
                in_policy=Decimal("8"),
                basic=Decimal("4"),
            )
            for k in range(60)
        ]
    )
    client_for(client, reviewer)
    url = reverse("settlements:settlement_list")
    first = client.get(url, {"hospital": "高州市人民医院"})
    assert len(first.context["page"].object_list) == 50 and "第 1 / 2 页" in first.text
    second = client.get(url, {"hospital": "高州市人民医院", "page": 2})
    assert len(second.context["page"].object_list) == 10


def test_settlement_list_without_hospital_goes_back_to_the_hospitals(client, reviewer):
    client_for(client, reviewer)
    response = client.get(reverse("settlements:settlement_list"))
    assert response.status_code == 302 and response.url == reverse("settlements:hospital_list")


@pytest.mark.parametrize("role", ["finance", "admin_user"])
def test_roles_without_settlement_permission_get_403_in_the_browser(client, request, role):
    client_for(client, request.getfixturevalue(role))
    assert client.get(reverse("settlements:hospital_list")).status_code == 403
    assert client.get(reverse("settlements:settlement_list"), {"hospital": "x"}).status_code == 403


# --- person page ----------------------------------------------------------------------------


def test_person_page_lists_own_settlements_for_the_clerk(client, clerk, own_person, foreign_person):
    _settlement("OWN1", own_person.id_number, hospital="高州市人民医院")
    _settlement("FOR1", foreign_person.id_number, hospital="东岸镇卫生院")
    client_for(client, clerk)
    page = client.get(reverse("recipients:person_detail", args=[own_person.pk])).text
    assert "医保结算记录" in page and "OWN1" in page and "高州市人民医院" in page
    assert "FOR1" not in page and "C34.9" not in page
    assert client.get(reverse("recipients:person_detail", args=[foreign_person.pk])).status_code == 404


def test_person_page_caps_the_settlements_at_100(client, reviewer, own_person):
    Settlement.objects.bulk_create(
        [
            Settlement(
                number=f"C{k:03d}",
                id_number=own_person.id_number,
                name=own_person.name,
                hospital="高州市人民医院",
                visit_type="门诊",
                visit_on=datetime.date(2024, 1, 1) + datetime.timedelta(days=k),
                service_date=datetime.date(2024, 1, 1) + datetime.timedelta(days=k),
                settled_on=datetime.date(2024, 1, 1) + datetime.timedelta(days=k),
                total=Decimal("10"),
                in_policy=Decimal("8"),
                basic=Decimal("4"),
            )
            for k in range(101)
        ]
    )
    client_for(client, reviewer)
    response = client.get(reverse("recipients:person_detail", args=[own_person.pk]))
    assert len(response.context["settlements"]) == 100
    assert "只显示最近 100 条结算记录" in response.text
    assert "C100" in response.text and "C000" not in response.text  # newest first


def test_person_page_without_settlement_permission_has_no_section(client, finance, own_person):
    _settlement("OWN1", own_person.id_number)
    client_for(client, finance)
    page = client.get(reverse("recipients:person_detail", args=[own_person.pk])).text
    assert "医保结算记录" not in page and "OWN1" not in page
