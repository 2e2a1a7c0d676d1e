"""A large file read in place: memory-mapped, its pages given back once read.

An operator imports a prefecture's yearly extract from the command line: mapped, the file is read batch by batch
without being copied into memory, and pages already read are released (`release`), so that the process's
memory does not grow with the file.
"""

import contextlib
import mmap
import os


@contextlib.contextmanager
def mapped(path):
    """The file's bytes as a read-only mmap (bytes for an empty file: an empty file cannot be mapped)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            yield b""
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as content:
            yield content


def release(content, upto: int | None = None) -> None:
    """Give back the pages of a mapped file up to `upto` (all by default); they are read again if needed."""
    if isinstance(content, mmap.mmap):
        upto = len(content) if upto is None else upto
        if upto >= mmap.PAGESIZE:
            content.madvise(mmap.MADV_DONTNEED, 0, upto - upto % mmap.PAGESIZE)
