"""A large file read in place: memory-mapped, its pages given back once read.

An operator imports a prefecture's yearly extract from the command line: mapped, the file is read batch by batch
without being copied into memory, and pages already read are released (`release`), so that the process's
memory does not grow with the file.
"""

import contextlib
import mmap
import os


class MappedFile(mmap.mmap):
    """A read-only mapped file that also answers the bytes methods a reader of whole files calls (such a reader
    then copies it: only readers that go batch by batch keep memory flat)."""

    def startswith(self, prefix, *args) -> bool:
        return bytes(self[: max(map(len, prefix)) if isinstance(prefix, tuple) else len(prefix)]).startswith(
            prefix, *args
        )

    def decode(self, *args, **kwargs) -> str:
        return bytes(self).decode(*args, **kwargs)


@contextlib.contextmanager
def mapped(path):
    """The file's bytes as a MappedFile (bytes for an empty file: an empty file cannot be mapped)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            yield b""
            return
        with MappedFile(f.fileno(), 0, access=mmap.ACCESS_READ) as content:
            yield content


def release(content, upto: int | None = None) -> None:
    """Give back the pages of a mapped file up to `upto` (all by default); they are read again if needed."""
    if isinstance(content, mmap.mmap):
        upto = len(content) if upto is None else upto
        if upto >= mmap.PAGESIZE:
            content.madvise(mmap.MADV_DONTNEED, 0, upto - upto % mmap.PAGESIZE)
