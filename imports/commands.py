"""The operator command of a format (DATA-FORMATS §7): check and write one file in one go, print every error
and exit non-zero when nothing was written, print a one-line summary when it was."""

import contextlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lib.errors import error_line
from lib.filemap import mapped, release

from .models import ImportRecord, ImportStatus
from .registry import get_format
from .services import OUT_OF_MEMORY, WRITE_CRASHED, ImportRejected, import_create, import_run


class ImportCommand(BaseCommand):
    kind: str  # the format
    file_help = "文件路径"
    keep_content = True  # False: the record keeps only the file's hash (large extracts stay on disk)

    def add_arguments(self, parser):
        parser.add_argument("file", help=self.file_help)
        self.add_format_arguments(parser)
        parser.add_argument("--max-errors", type=int, default=50, help="最多打印多少条错误（默认 50）")
        parser.add_argument(
            "--county", help="所属县（区）的代码；只有一个县时可省略，多个县时省略则按市级导入（名册按乡镇分到各县）"
        )

    def add_format_arguments(self, parser) -> None:
        """The format's options."""

    def format_options(self, **options) -> dict:
        """The format's options parsed, or a CommandError."""
        return {}

    def summary(self, record: ImportRecord) -> list[str]:
        raise NotImplementedError

    def handle(self, *args, file, max_errors, county=None, **options):
        if max_errors < 0:
            raise CommandError(f"--max-errors 不能为负数：{max_errors}")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        format_options = self.format_options(**options)
        if county:
            counties = get_format(self.kind).model._meta.get_field("county").related_model
            found = counties.objects.filter(code=county.strip()).first()
            if found is None:
                raise CommandError(f"没有代码为 {county} 的县（区）")
            format_options["county"] = found
        with contextlib.ExitStack() as stack:
            # A file the record does not keep is read in place: mapped, not copied into memory.
            content = path.read_bytes() if self.keep_content else stack.enter_context(mapped(path))
            record = self.run(content, path.name, format_options)
        if record.status != ImportStatus.DONE:
            self.print_errors(record, max_errors)
            if record.status == ImportStatus.INVALID:
                raise CommandError(f"校验未通过：{record.error_count} 处错误，未写入任何数据（导入记录 #{record.pk}）")
            raise CommandError(record.message or "导入失败，未写入任何数据")
        for line in self.summary(record):
            self.stdout.write(line)

    def run(self, content, file_name: str, format_options: dict) -> ImportRecord:
        try:
            record = import_create(
                kind=self.kind,
                user=None,
                file_name=file_name,
                content=content,
                options=format_options,
                enqueue=False,
                keep_content=self.keep_content,
            )
            release(content)  # the hash read it all: those pages are given back
            return import_run(record=record, user=None, content=content)
        except ImportRejected as exc:
            raise CommandError(str(exc)) from None
        except Exception as exc:  # marked FAILED with its reason by the flow; the details are in the log
            message = OUT_OF_MEMORY if isinstance(exc, MemoryError) else WRITE_CRASHED
            raise CommandError(message) from None

    def print_errors(self, record: ImportRecord, max_errors: int) -> None:
        for e in record.errors[:max_errors]:
            self.stderr.write(error_line(e))
        if record.error_count > max_errors:
            self.stderr.write(f"……另有 {record.error_count - max_errors} 处错误未列出")
