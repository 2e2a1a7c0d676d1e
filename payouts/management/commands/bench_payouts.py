"""Benchmark of the bank file export: a 100,000-line batch against a plain XlsxWriter constant-memory write of
the same rows, measured in the same run; and the time of the batch's public notice. Everything is rolled back at the end (PostgreSQL or SQLite)."""

import datetime
import os
import random
import tempfile
import time
import tracemalloc
from decimal import Decimal

import xlsxwriter
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from applications.models import Case
from lib.bench import rolled_back
from payouts import services
from payouts.notice import public_notice
from recipients import demo
from recipients.models import County, Person, Township


class Command(BaseCommand):
    help = "Time the export of an N-line payout batch (default 100,000) and its memory, against plain XlsxWriter."

    def add_arguments(self, parser):
        parser.add_argument("--lines", type=int, default=100_000)

    def handle(self, *args, lines, **options):
        figures = {}
        with rolled_back():
            batch = self._batch(lines, figures)
            maker = batch.created_by
            t0 = time.perf_counter()
            content = services.batch_export(batch=batch, user=maker)
            figures["export"] = time.perf_counter() - t0
            tracemalloc.start()
            services.batch_export(batch=batch, user=maker)
            figures["peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            figures["size_mb"] = len(content) / 1e6
            t0 = time.perf_counter()
            figures["notice_mb"] = len(public_notice(batch, notice_date=timezone.localdate())) / 1e6
            figures["notice"] = time.perf_counter() - t0
            rows = list(
                batch.lines.filter(live=True)
                .order_by("reference")
                .values_list("payee_name", "payee_account", "payee_bank", "amount", "id_number", "reference")
            )
            figures["plain"] = self._plain(rows)
        f = figures
        self.stdout.write(f"batch of {lines} lines built in {f['build']:.1f} s")
        self.stdout.write(
            f"bank file export (query, both sheets, reproducible zip)  {f['export']:6.2f} s   "
            f"{f['size_mb']:.1f} MB file, peak Python memory {f['peak_mb']:.0f} MB"
        )
        self.stdout.write(f"plain XlsxWriter constant_memory write of the rows      {f['plain']:6.2f} s")
        self.stdout.write(
            f"public notice of the same lines (A4, masked)            {f['notice']:6.2f} s   {f['notice_mb']:.1f} MB file"
        )
        self.stdout.write(f"ratio                                                  {f['export'] / f['plain']:6.2f}×")

    def _batch(self, n, figures):
        t0 = time.perf_counter()
        rng = random.Random(7)
        county, _ = County.objects.get_or_create(code="990200", defaults={"name": "基准测试县"})
        townships = [Township.objects.create(county=county, name=f"基准{i:02d}镇") for i in range(20)]
        people = demo.make_people(rng, n, {t.name: ["村"] for t in townships}, region="990201")
        by_name = {t.name: t for t in townships}
        Person.objects.bulk_create(
            [
                Person(
                    id_number=p.id_number,
                    name=p.name,
                    sex="M",
                    birth_date=p.birth,
                    township=by_name[p.township],
                    bank_name=p.bank_name or "中国农业银行",
                    bank_account=p.bank_account or "622848" + p.id_number[:13],
                )
                for p in people
            ],
            batch_size=5000,
        )
        decided = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
        cases = []
        for number, (pk, township_id, name, bank, account) in enumerate(
            Person.objects.filter(township__in=townships).values_list(
                "pk", "township_id", "name", "bank_name", "bank_account"
            )
        ):
            cases.append(
                Case(
                    number=f"BENCH{number:08d}",
                    person_id=pk,
                    township_id=township_id,
                    status=Case.Status.APPROVED,
                    approved_amount=Decimal(rng.randrange(10000, 3000000)) / 100,
                    payee_name=name,
                    payee_bank=bank,
                    payee_account=account,
                    decided_at=decided,
                )
            )
        Case.objects.bulk_create(cases, batch_size=5000)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # as autovacuum would have by the time finance builds a batch
                cursor.execute("ANALYZE applications_case")
                cursor.execute("ANALYZE recipients_person")
        maker = User.objects.create(username="bench-maker", role=Role.FINANCE)
        checker = User.objects.create(username="bench-checker", role=Role.FINANCE)
        batch = services.batch_create(user=maker, township=None)
        batch = services.batch_lock(batch=batch, user=maker)
        batch = services.batch_review(batch=batch, user=checker)
        figures["build"] = time.perf_counter() - t0
        return batch

    @staticmethod
    def _plain(rows) -> float:
        fd, path = tempfile.mkstemp(suffix=".xlsx")
        os.close(fd)
        try:
            t0 = time.perf_counter()
            workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
            sheet = workbook.add_worksheet("代发明细")
            text = workbook.add_format({"num_format": "@"})
            money = workbook.add_format({"num_format": "#,##0.00"})
            sheet.write_row(
                0, 0, ["序号", "户名", "银行账号", "开户银行", "金额（元）", "身份证号", "摘要", "业务编号"]
            )
            for r, (name, account, bank, amount, id_number, reference) in enumerate(rows, 1):
                sheet.write_number(r, 0, r)
                sheet.write_string(r, 1, name, text)
                sheet.write_string(r, 2, account, text)
                sheet.write_string(r, 3, bank, text)
                sheet.write_number(r, 4, float(amount), money)
                sheet.write_string(r, 5, id_number, text)
                sheet.write_string(r, 6, "医疗救助金", text)
                sheet.write_string(r, 7, reference, text)
            workbook.close()
            return time.perf_counter() - t0
        finally:
            os.unlink(path)
