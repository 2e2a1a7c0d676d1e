from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from audit.services import audit_record
from insurers.calc import direction_label, parse_period
from insurers.excel import statement_workbook
from insurers.models import InsurerStatement
from insurers.selectors import current_statement
from insurers.services import InsurerRefused, statement_build, statement_request
from lib.outfiles import output_path, write_file
from recipients.models import County


class Command(BaseCommand):
    help = (
        "生成承办保险机构结算单（DATA-FORMATS §12）并导出 Excel：--period 2026H1 为半年结算，--clearing 2026 为"
        "年度清算。默认按最新数据生成新版本（待财务复核）；--no-rebuild 只导出该期间的当前版本。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--county", required=True, help="县（区）代码或名称")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--period", help="半年：2026H1（1—6 月）或 2026H2（7—12 月）")
        group.add_argument("--clearing", type=int, help="清算的年度，如 2026（次年 3 月清算）")
        parser.add_argument("--no-rebuild", action="store_true", help="不重新生成，导出该期间的当前版本")
        parser.add_argument("out", help="输出文件 .xlsx")

    def handle(self, *args, county, period, clearing, no_rebuild, out, **options):
        path = output_path(out)
        record = County.objects.filter(Q(code=county.strip()) | Q(name=county.strip())).first()
        if record is None:
            raise CommandError(f"没有县（区）“{county}”")
        if period:
            try:
                year, half = parse_period(period)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            kind = InsurerStatement.Kind.HALF
        else:
            year, half, kind = clearing, None, InsurerStatement.Kind.CLEARING
        if no_rebuild:
            statement = current_statement(county_id=record.pk, kind=kind, year=year, half=half)
            if statement is None or statement.status in (statement.Status.QUEUED, statement.Status.RUNNING):
                raise CommandError("该期间还没有生成好的结算单")
        else:
            try:
                statement = statement_request(user=None, county=record, kind=kind, year=year, half=half, queue=False)
            except InsurerRefused as exc:
                raise CommandError(str(exc)) from None
            statement = statement_build(statement_id=statement.pk)
        try:
            write_file(path, statement_workbook(statement))
        except CommandError as exc:  # the statement stands (built and audited): only its file is missing
            raise CommandError(f"{exc}；结算单 {statement.number} 已生成，可加 --no-rebuild 重新导出") from None
        audit_record(actor=None, action="insurer.statement_download", obj=statement, comment=f"operator → {path.name}")
        self.stdout.write(
            f"{statement.number} {record.name} {statement.period_label}：实际救助 {statement.assistance:,.2f} 元，"
            f"服务费 {statement.fee:,.2f} 元，{direction_label(statement.amount_due)} "
            f"{abs(statement.amount_due):,.2f} 元（{statement.get_status_display()}）→ {path}"
        )
