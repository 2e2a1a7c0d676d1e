"""Files an operator command writes (exports, statements): the path checked before anything is done, and the file
written whole or not at all — into a temporary file beside it, renamed over it when complete — so that a full disk,
a directory given as the file or a folder that cannot be written is a clear message in Chinese, never a traceback,
and never a half-written workbook under the name the bank or the department will open."""

import contextlib
import os
import secrets
from pathlib import Path

from django.core.management.base import CommandError


def output_path(out: str, *, suffix: str = ".xlsx") -> Path:
    """The path to write, checked: its suffix, not a directory, its folder there and writable."""
    path = Path(out)
    if path.suffix.lower() != suffix:
        raise CommandError(f"输出文件须为 {suffix}：{out}")
    if path.is_dir():
        raise CommandError(f"输出路径是一个目录，请写上文件名：{out}")
    folder = path.parent
    if not folder.is_dir():
        raise CommandError(f"目录不存在：{folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"没有写入该目录的权限：{folder}")
    if path.exists() and not os.access(path, os.W_OK):
        raise CommandError(f"文件已存在且不能覆盖（只读）：{out}")
    return path


@contextlib.contextmanager
def writing(path: Path):
    """A temporary path beside `path` (not yet there) for the file to be written to; renamed over `path` when the
    block ends without an error, removed otherwise. An OSError (disk full, permissions) becomes a CommandError."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    try:
        yield temporary
        os.replace(temporary, path)
    except OSError as exc:
        raise CommandError(f"无法写入 {path}：{exc.strerror or exc}") from None
    finally:
        temporary.unlink(missing_ok=True)


def write_file(path: Path, content: bytes) -> None:
    """Write `content` to `path` whole or not at all (see writing)."""
    with writing(path) as temporary, open(temporary, "xb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
