import datetime

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from recipients.demo import to_csv
from recipients.models import Identity, Person, RosterImport
from tests.conftest import client_for
from tests.factories import IdentityFactory, PersonFactory, valid_id_number

ID = valid_id_number(datetime.date(1956, 3, 8), female=True)


@pytest.fixture
def own_person(township, village):
    person = PersonFactory(
        name="王秀英",
        township=township,
        village=village,
        id_number="11010519491231002X",
        phone="13812345678",
        bank_account="6228480000123456789",
    )
    IdentityFactory(
        person=person, category="DB", valid_from=datetime.date(2020, 1, 1), valid_to=datetime.date(2022, 12, 31)
    )
    IdentityFactory(person=person, category="TK", valid_from=datetime.date(2023, 1, 1))
    return person


@pytest.fixture
def foreign_person(other_township):
    person = PersonFactory(name="李建国", township=other_township)
    IdentityFactory(person=person)
    return person


# --- township scoping -----------------------------------------------------------------------


def test_clerk_sees_only_own_township_in_search(clerk_client, own_person, foreign_person):
    response = clerk_client.get(reverse("recipients:person_list"))
    assert response.status_code == 200
    assert "王秀英" in response.text and "李建国" not in response.text


def test_clerk_cannot_see_other_township_person_by_guessed_url(clerk_client, foreign_person):
    assert clerk_client.get(reverse("recipients:person_detail", args=[foreign_person.pk])).status_code == 404
    assert clerk_client.post(reverse("recipients:person_detail", args=[foreign_person.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="recipient.pii_view").exists()


def test_clerk_search_by_full_id_of_other_township_finds_nothing(clerk_client, foreign_person):
    response = clerk_client.get(reverse("recipients:person_list"), {"q": foreign_person.id_number})
    assert "李建国" not in response.text
    assert "没有找到" in response.text


def test_county_reviewer_sees_every_township(reviewer_client, own_person, foreign_person):
    response = reviewer_client.get(reverse("recipients:person_list"))
    assert "王秀英" in response.text and "李建国" in response.text
    assert reviewer_client.get(reverse("recipients:person_detail", args=[foreign_person.pk])).status_code == 200


def test_search_by_id_prefix_suffix_and_name(reviewer_client, own_person, foreign_person):
    url = reverse("recipients:person_list")
    assert "王秀英" in reviewer_client.get(url, {"q": own_person.id_number.lower()}).text
    assert "王秀英" in reviewer_client.get(url, {"q": own_person.id_number[:8]}).text
    assert "王秀英" in reviewer_client.get(url, {"q": own_person.id_number[-4:]}).text
    by_name = reviewer_client.get(url, {"q": "秀英"}).text
    assert "王秀英" in by_name and "李建国" not in by_name
    by_township = reviewer_client.get(url, {"township": foreign_person.township_id}).text
    assert "李建国" in by_township and "王秀英" not in by_township


def test_admin_role_does_not_see_people(client, admin_user, own_person):
    client_for(client, admin_user)
    assert client.get(reverse("recipients:person_list")).status_code == 403
    assert client.get(reverse("recipients:person_detail", args=[own_person.pk])).status_code == 403


# --- masking and its audit ------------------------------------------------------------------


def test_pages_show_masked_personal_data(clerk_client, own_person):
    for url in (reverse("recipients:person_list"), reverse("recipients:person_detail", args=[own_person.pk])):
        html = clerk_client.get(url).text
        assert own_person.id_number not in html
        assert "1101**********002X" in html
        assert "13812345678" not in html and "138****5678" in html
    detail = clerk_client.get(reverse("recipients:person_detail", args=[own_person.pk])).text
    assert "6228480000123456789" not in detail and "6228***********6789" in detail
    assert not AuditEvent.objects.filter(action="recipient.pii_view").exists()


def test_revealing_full_data_is_audited(clerk_client, clerk, own_person):
    response = clerk_client.post(reverse("recipients:person_detail", args=[own_person.pk]), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert own_person.id_number in response.text and "13812345678" in response.text
    assert "6228480000123456789" in response.text
    event = AuditEvent.objects.get(action="recipient.pii_view")
    assert (event.actor, event.object_id, event.ip_address) == (clerk, str(own_person.pk), "10.1.2.3")
    # every view is recorded, not only the first
    clerk_client.post(reverse("recipients:person_detail", args=[own_person.pk]))
    assert AuditEvent.objects.filter(action="recipient.pii_view").count() == 2


def test_role_without_unmask_permission_cannot_reveal(client, approver, own_person):
    client_for(client, approver)
    detail = client.get(reverse("recipients:person_detail", args=[own_person.pk])).text
    assert "查看完整信息" not in detail
    response = client.post(reverse("recipients:person_detail", args=[own_person.pk]), follow=True)
    assert own_person.id_number not in response.text
    assert "没有查看完整个人信息的权限" in response.text
    assert not AuditEvent.objects.filter(action="recipient.pii_view").exists()


def test_detail_shows_identity_timeline(clerk_client, own_person):
    html = clerk_client.get(reverse("recipients:person_detail", args=[own_person.pk])).text
    assert 'data-testid="timeline"' in html
    assert "特困供养人员" in html and "最低生活保障对象" in html
    assert "2022-12-31" in html and "仍有效" in html


# --- web import flow ------------------------------------------------------------------------


def _roster(*rows):
    return to_csv([[r[0], r[1], "低保", "2023-01-01", "", r[2], "", "", "", "", ""] for r in rows])


def test_clerk_imports_roster_through_the_web(client, clerk, village, task_worker):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client_for(client, clerk)
    upload = SimpleUploadedFile("石鼓镇名册.csv", _roster((ID, "王秀英", "石鼓镇")), content_type="text/csv")
    response = client.post(reverse("recipients:import_upload"), {"file": upload, "source": "MZ"})
    assert response.status_code == 302
    imp = RosterImport.objects.get()
    assert imp.township_id == clerk.township_id
    _wait_for(imp, RosterImport.Status.VALID)
    page = client.get(response.url)
    assert "校验通过" in page.text and "新增救助身份" in page.text
    assert Person.objects.count() == 0  # nothing written before confirmation
    response = client.post(reverse("recipients:import_confirm", args=[imp.pk]))
    assert response.status_code == 302
    _wait_for(imp, RosterImport.Status.DONE)
    assert Person.objects.get().name == "王秀英"
    assert "已于" in client.get(reverse("recipients:import_detail", args=[imp.pk])).text


def _wait_for(imp, status, timeout=20):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        imp.refresh_from_db()
        if imp.status == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"import stayed {imp.status}, expected {status}")


def test_invalid_upload_shows_every_error_and_offers_download(clerk_client, village, other_township, task_worker):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("bad.csv", _roster((ID, "王秀英", "东岸镇"), ("123", "李四", "石鼓镇")))
    response = clerk_client.post(reverse("recipients:import_upload"), {"file": upload, "source": "MZ"})
    _wait_for(RosterImport.objects.get(), RosterImport.Status.INVALID)
    page = clerk_client.get(response.url)
    assert "校验未通过" in page.text and "没有写入任何数据" in page.text
    assert "只能导入本乡镇" in page.text and "身份证号应为 18 位" in page.text
    imp = RosterImport.objects.get()
    download = clerk_client.get(reverse("recipients:import_errors_download", args=[imp.pk]))
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(download.content)).active
    rows = list(sheet.values)
    assert rows[0] == ("行号", "列", "值", "原因") and len(rows) == 3
    assert Identity.objects.count() == 0


def test_upload_form_rejects_wrong_extension(clerk_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = clerk_client.post(
        reverse("recipients:import_upload"), {"file": SimpleUploadedFile("名册.docx", b"x"), "source": "MZ"}
    )
    assert response.status_code == 200
    assert "只接受 .xlsx 或 .csv" in response.text
    assert RosterImport.objects.count() == 0


def test_clerk_cannot_open_other_township_import(client, outsider, clerk, village):
    from recipients.services import roster_import_create

    imp = roster_import_create(
        user=clerk, file_name="a.csv", content=_roster((ID, "王秀英", "石鼓镇")), source="MZ", enqueue=False
    )
    client_for(client, outsider)
    assert client.get(reverse("recipients:import_detail", args=[imp.pk])).status_code == 404
    assert client.post(reverse("recipients:import_confirm", args=[imp.pk])).status_code == 404


def test_roles_without_import_permission_cannot_upload(client, approver, supervisor):
    for user in (approver, supervisor):
        client_for(client, user)
        assert client.get(reverse("recipients:import_upload")).status_code == 403


def test_masked_pages_do_not_show_the_full_birth_date(clerk_client, own_person):
    html = clerk_client.get(reverse("recipients:person_detail", args=[own_person.pk])).text
    assert own_person.birth_date.strftime("%Y-%m-%d") not in html
    revealed = clerk_client.post(reverse("recipients:person_detail", args=[own_person.pk])).text
    assert own_person.birth_date.strftime("%Y-%m-%d") in revealed
    listing = clerk_client.get(reverse("recipients:person_list")).text
    assert own_person.birth_date.strftime("%Y-%m-%d") not in listing


def test_blank_template_round_trips_through_the_import(clerk_client, village):
    from io import BytesIO

    from openpyxl import load_workbook

    response = clerk_client.get(reverse("recipients:import_template"))
    assert response.status_code == 200
    workbook = load_workbook(BytesIO(response.content))
    sheet = workbook["名册"]
    assert [c.value for c in sheet[1]][:5] == ["身份证号", "姓名", "救助类别", "认定日期", "退出日期"]
    assert sheet.column_dimensions["A"].number_format == "@"
    assert sheet.column_dimensions["J"].number_format == "@"
    # a clerk fills one row in and the file imports
    sheet.append([ID, "王秀英", "低保", "2023-01-01", None, "石鼓镇", "石鼓村"])
    buffer = BytesIO()
    workbook.save(buffer)
    from imports.services import import_validate
    from recipients.services import roster_import_create

    imp = roster_import_create(
        user=response.wsgi_request.user, file_name="模板.xlsx", content=buffer.getvalue(), source="MZ", enqueue=False
    )
    assert import_validate(kind="roster", pk=imp.pk).status == RosterImport.Status.VALID
