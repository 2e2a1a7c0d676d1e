"""lib.binary: a file's bytes written as a binary parameter come back byte for byte."""

import pytest

from lib.binary import write_bytes
from recipients.models import RosterImport
from recipients.services import roster_import_create

pytestmark = pytest.mark.django_db


def test_bytes_written_come_back_unchanged():
    record = roster_import_create(user=None, file_name="a.csv", content=b"x", source="MZ", enqueue=False)
    content = bytes(range(256)) * 1000 + b"\x00\\x00'\""
    write_bytes(record, "content", content)
    assert bytes(RosterImport.objects.values_list("content", flat=True).get(pk=record.pk)) == content


def test_an_upload_keeps_its_file_byte_for_byte():
    content = "身份证号,姓名\r\n".encode("gb18030") + bytes(range(256))
    record = roster_import_create(user=None, file_name="a.csv", content=content, source="MZ", enqueue=False)
    assert bytes(RosterImport.objects.values_list("content", flat=True).get(pk=record.pk)) == content
