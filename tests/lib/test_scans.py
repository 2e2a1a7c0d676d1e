"""lib.scans: one check for every kept scan — by content, never by name."""

import pytest

from lib.scans import EXTENSIONS, ScanRefused, scan_type, sniff_content_type

PDF = b"%PDF-1.7\n%..."
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("发票.pdf", PDF, "application/pdf"),
        ("照片.JPG", JPEG, "image/jpeg"),
        ("照片.jpeg", JPEG, "image/jpeg"),
        ("截图.png", PNG, "image/png"),
    ],
)
def test_a_scan_named_as_what_it_is_is_accepted(name, content, expected):
    assert scan_type(name, content) == expected
    assert EXTENSIONS[expected] in (".pdf", ".jpg", ".png")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("空.pdf", b"", "文件是空的"),
        ("病历.pdf", b"MZ\x90\x00 a program", "只接受 PDF、JPEG 或 PNG"),
        ("发票.pdf", PNG, "内容与扩展名不符"),
        ("发票", PDF, "内容与扩展名不符"),
        ("发票.pdf.exe", PDF, "内容与扩展名不符"),
        ("<script>.svg", b"<svg onload=alert(1)>", "只接受 PDF、JPEG 或 PNG"),
    ],
)
def test_anything_else_is_refused_with_its_reason(name, content, reason):
    with pytest.raises(ScanRefused, match=reason):
        scan_type(name, content)


def test_the_size_limit_is_named():
    with pytest.raises(ScanRefused, match="文件过大：上限 1 MB"):
        scan_type("a.pdf", PDF + b"0" * (1024 * 1024), limit=1024 * 1024)
    assert scan_type("a.pdf", PDF, limit=1024 * 1024) == "application/pdf"


def test_the_type_comes_from_the_first_bytes():
    assert sniff_content_type(b"x" + PDF) is None
    assert sniff_content_type(PDF) == "application/pdf"
