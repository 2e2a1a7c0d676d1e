"""The shared import pages, through the client, under each format's namespace: who may see and do what, the
township scope of roster files, and what each status shows."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from imports.models import ImportStatus
from imports.registry import get_format
from imports.services import import_apply, import_cancel, import_confirm, import_validate
from tests.conftest import client_for
from tests.imports.conftest import roster_sample, settlement_sample

S = ImportStatus


def url(sample, name, *args):
    return reverse(f"{sample.namespace}:{name}", args=args)


def record_pages(sample, record):
    return [url(sample, "import_detail", record.pk), url(sample, "import_errors_download", record.pk)]


# --- permissions ----------------------------------------------------------------------------

# (format, role that imports, role that only looks, role that sees nothing)
ROLES = [("roster", "reviewer", "supervisor", "approver"), ("settlement", "reviewer", "supervisor", "clerk")]


@pytest.mark.parametrize(("kind", "importer", "viewer", "stranger"), ROLES)
def test_each_role_gets_the_pages_its_permissions_allow(client, request, village, kind, importer, viewer, stranger):
    sample = roster_sample() if kind == "roster" else settlement_sample()
    record = sample.create(request.getfixturevalue(importer))
    for role, can_view, can_import in ((importer, True, True), (viewer, True, False), (stranger, False, False)):
        client_for(client, request.getfixturevalue(role))
        for page in [url(sample, "import_list"), *record_pages(sample, record)]:
            assert client.get(page).status_code == (200 if can_view else 403), (role, page)
        for page in (url(sample, "import_upload"), url(sample, "import_template")):
            assert client.get(page).status_code == (200 if can_import else 403), (role, page)
        if not can_import:
            for name in ("import_confirm", "import_cancel"):
                assert client.post(url(sample, name, record.pk)).status_code == 403
    record.refresh_from_db()
    assert record.status == S.PENDING


def test_pages_refuse_other_methods(client, reviewer, sample):
    record = sample.create(reviewer)
    client_for(client, reviewer)
    assert client.get(url(sample, "import_confirm", record.pk)).status_code == 405
    assert client.get(url(sample, "import_cancel", record.pk)).status_code == 405


def test_anonymous_users_are_sent_to_the_login(client, sample):
    response = client.get(url(sample, "import_list"))
    assert response.status_code == 302 and "login" in response.url


# --- township scope (roster files of a township window) ------------------------------------


def test_a_clerk_sees_only_the_roster_files_of_their_township(client, clerk, outsider, reviewer, village):
    sample = roster_sample()
    own = import_validate(kind="roster", pk=sample.create(clerk).pk)
    county = sample.create(reviewer)
    client_for(client, outsider)
    for page in record_pages(sample, own):
        assert client.get(page).status_code == 404
    for name in ("import_confirm", "import_cancel"):
        assert client.post(url(sample, name, own.pk)).status_code == 404
    assert "文件.csv" not in client.get(url(sample, "import_list")).text
    own.refresh_from_db()
    assert own.status == S.VALID

    client_for(client, clerk)
    assert client.get(url(sample, "import_detail", county.pk)).status_code == 404  # a county file
    listing = client.get(url(sample, "import_list")).text
    assert listing.count(url(sample, "import_detail", own.pk)) == 1
    assert url(sample, "import_detail", county.pk) not in listing


def test_a_county_reviewer_sees_the_files_of_every_township(client, clerk, reviewer, village):
    sample = roster_sample()
    record = sample.create(clerk)
    client_for(client, reviewer)
    assert client.get(url(sample, "import_detail", record.pk)).status_code == 200


# --- the flow through the pages -------------------------------------------------------------


def test_upload_check_confirm_and_history_through_the_pages(
    client, reviewer, sample, eager_tasks, django_capture_on_commit_callbacks
):
    client_for(client, reviewer)
    page = client.get(url(sample, "import_upload"))
    assert "上传并校验" in page.text and url(sample, "import_template") in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(sample, "import_upload"), {"file": SimpleUploadedFile("上传.csv", sample.good), **sample.options}
        )
    assert response.status_code == 302
    listing = client.get(url(sample, "import_list")).text
    assert "上传.csv" in listing and 'data-testid="imports"' in listing
    detail = client.get(response.url).text
    assert "校验通过。确认后将：" in detail and "确认导入" in detail and "data-confirm=" in detail
    record = get_format(sample.kind).model.objects.get()
    assert response.url == url(sample, "import_detail", record.pk) and record.file_name == "上传.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(sample, "import_confirm", record.pk), follow=True)
    assert "已确认，正在导入" in response.text
    detail = client.get(url(sample, "import_detail", record.pk)).text
    assert "已于" in detail and 'data-testid="result"' in detail
    assert sample.written() > 0


def test_a_bad_upload_shows_its_errors_and_the_report_downloads(client, reviewer, sample):
    record = import_validate(kind=sample.kind, pk=sample.create(reviewer, content=sample.bad).pk)
    client_for(client, reviewer)
    detail = client.get(url(sample, "import_detail", record.pk)).text
    assert "校验未通过" in detail and "没有写入任何数据" in detail and "重新上传" in detail
    assert url(sample, "import_errors_download", record.pk) in detail
    assert "确认导入" not in detail
    download = client.get(url(sample, "import_errors_download", record.pk))
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"{sample.kind}-import-{record.pk}-errors.xlsx" in download["Content-Disposition"]
    rows = list(load_workbook(BytesIO(download.content)).active.values)
    assert rows[0] == ("行号", "列", "值", "原因") and len(rows) == 1 + record.error_count


def test_the_status_fragment_polls_while_the_file_is_checked(client, reviewer, sample):
    record = sample.create(reviewer)
    client_for(client, reviewer)
    page = client.get(url(sample, "import_detail", record.pk)).text
    assert 'hx-trigger="every 1s"' in page and "排队中…" in page
    fragment = client.get(url(sample, "import_detail", record.pk), HTTP_HX_REQUEST="true").text
    assert fragment.lstrip().startswith('<div id="import-status"') and "<html" not in fragment
    import_validate(kind=sample.kind, pk=record.pk)
    fragment = client.get(url(sample, "import_detail", record.pk), HTTP_HX_REQUEST="true").text
    assert "hx-trigger" not in fragment and 'data-testid="preview"' in fragment


def test_failed_and_cancelled_files_say_nothing_was_written(client, reviewer, sample):
    failed = sample.create(reviewer)
    type(failed).objects.filter(pk=failed.pk).update(status=S.FAILED, message="导入时发生系统错误")
    cancelled = import_cancel(record=import_validate(kind=sample.kind, pk=sample.create(reviewer).pk), user=reviewer)
    client_for(client, reviewer)
    assert "导入时发生系统错误" in client.get(url(sample, "import_detail", failed.pk)).text
    assert "已取消，未写入任何数据" in client.get(url(sample, "import_detail", cancelled.pk)).text


def test_confirming_twice_through_the_page_is_refused_with_a_message(client, reviewer, sample):
    record = import_validate(kind=sample.kind, pk=sample.create(reviewer).pk)
    import_apply(kind=sample.kind, pk=import_confirm(record=record, user=reviewer, enqueue=False).pk)
    client_for(client, reviewer)
    page = client.post(url(sample, "import_confirm", record.pk), follow=True).text
    assert "该文件当前状态不能确认导入" in page
    page = client.post(url(sample, "import_cancel", record.pk), follow=True).text
    assert "该文件当前状态不能取消" in page


def test_the_history_shows_estimates_in_italics_until_written(client, reviewer, sample):
    record = import_validate(kind=sample.kind, pk=sample.create(reviewer).pk)
    client_for(client, reviewer)
    listing = client.get(url(sample, "import_list")).text
    assert 'title="预估，尚未导入"' in listing
    import_apply(kind=sample.kind, pk=import_confirm(record=record, user=reviewer, enqueue=False).pk)
    listing = client.get(url(sample, "import_list")).text
    assert 'title="预估，尚未导入"' not in listing and "已导入" in listing


def test_the_admin_lists_each_format_read_only_with_its_counts(client, admin_user, reviewer, sample):
    record = import_validate(kind=sample.kind, pk=sample.create(reviewer).pk)
    client_for(client, admin_user)
    opts = record._meta
    listing = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert listing.status_code == 200 and "文件.csv" in listing.text and "新增" in listing.text
    assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403
