"""lib.filemap: a mapped file reads like bytes, and its pages can be given back."""

from lib.filemap import mapped, release


def test_a_mapped_file_reads_like_bytes(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("结算单号,身份证号\nJS1,1\n".encode())
    with mapped(path) as content:
        assert len(content) == path.stat().st_size
        assert content.startswith("结算".encode()) and content.startswith((b"x", "结".encode()))
        assert content[:3] == "结".encode() and content.find(b"\n") > 0
        assert content.decode("utf-8").endswith("JS1,1\n")
        release(content)  # the pages go; the bytes are read again from the file
        assert content.decode("utf-8").endswith("JS1,1\n")


def test_an_empty_file_is_empty_bytes(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with mapped(path) as content:
        assert content == b""
