"""Files the operator commands write: the path checked first, the file whole or not at all, the failure a message."""

import errno
import os

import pytest
from django.core.management.base import CommandError

from lib.outfiles import output_path, write_file, writing


def test_the_path_is_checked_before_anything_is_done(tmp_path):
    assert output_path(str(tmp_path / "a.xlsx")) == tmp_path / "a.xlsx"
    with pytest.raises(CommandError, match=r"输出文件须为 \.xlsx"):
        output_path(str(tmp_path / "a.csv"))
    (tmp_path / "dir.xlsx").mkdir()
    with pytest.raises(CommandError, match="输出路径是一个目录"):
        output_path(str(tmp_path / "dir.xlsx"))
    with pytest.raises(CommandError, match="目录不存在"):
        output_path(str(tmp_path / "nope" / "a.xlsx"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_folder_that_cannot_be_written_is_said_so(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(CommandError, match="没有写入该目录的权限"):
        output_path(str(locked / "a.xlsx"))


def test_the_file_is_whole_or_not_there(tmp_path, monkeypatch):
    path = tmp_path / "a.xlsx"
    write_file(path, b"first")
    assert path.read_bytes() == b"first"
    real = os.replace

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(CommandError, match="无法写入"):
        write_file(path, b"second")
    monkeypatch.setattr(os, "replace", real)
    assert path.read_bytes() == b"first"  # the old file as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx"]  # no temporary file left


def test_a_writer_that_fails_leaves_nothing(tmp_path):
    path = tmp_path / "b.xlsx"
    with pytest.raises(RuntimeError), writing(path) as temporary:
        temporary.write_bytes(b"half")
        raise RuntimeError("the workbook failed")
    assert list(tmp_path.iterdir()) == []
