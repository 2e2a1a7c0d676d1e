from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recipients.regions import MAX_BYTES, RegionsRejected, load_regions, read_regions


class Command(BaseCommand):
    help = "载入县（区）、乡镇（街道）和村（社区）及其行政区划代码（.xlsx 或 .csv，可重复载入，全部通过才写入）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="区划文件：代码、名称两列（6 位县、9 位乡镇、12 位村）")
        parser.add_argument("--max-errors", type=int, default=50, help="最多打印多少条错误（默认 50）")

    def handle(self, *args, file, max_errors, **options):
        if max_errors < 0:
            raise CommandError(f"--max-errors 不能为负数：{max_errors}")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        if path.stat().st_size > MAX_BYTES:
            raise CommandError(f"文件过大，上限 {MAX_BYTES // 2**20} MB")
        try:
            found, skipped = read_regions(path.read_bytes(), path.name)
            outcome = load_regions(found, file_name=path.name)
        except RegionsRejected as rejected:
            for line in rejected.errors[:max_errors]:
                self.stderr.write(line)
            if len(rejected.errors) > max_errors:
                self.stderr.write(f"……另有 {len(rejected.errors) - max_errors} 处错误")
            raise CommandError(f"区划文件有 {len(rejected.errors)} 处错误，未写入任何数据") from None
        outcome.skipped = skipped
        for line in outcome.lines():
            self.stdout.write(line)
