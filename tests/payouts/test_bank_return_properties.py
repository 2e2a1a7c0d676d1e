"""A bank return never pays twice (DOMAIN §9): imported twice, re-ordered, split over two files or resaved as .xlsx,
each case is paid once and each line's result is set once; a later import of results already recorded changes
nothing."""

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import Workbook

from accounts.roles import Role
from applications.models import Case, CaseTransition
from audit.models import AuditEvent
from lib.bench import rolled_back
from payouts import services
from payouts.models import BankReturn, PayoutLine
from tests.conftest import db_examples
from tests.factories import ApprovedCaseFactory, PersonFactory, UserFactory

D = Decimal
HEADERS = ["业务编号", "银行账号", "金额（元）", "处理结果", "失败原因"]
L = PayoutLine.Status


@pytest.fixture
def finance2(db):
    return UserFactory(username="finance2", role=Role.FINANCE)


def as_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def as_xlsx(rows) -> bytes:
    """The bank's file resaved in Excel: amounts as number cells, accounts as text."""
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for reference, account, amount, result, reason in rows:
        sheet.append([reference, account, float(amount), result, reason])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


LINES = st.lists(
    st.tuples(
        st.integers(1, 1_000_000_000).map(lambda cents: D(cents) / 100),  # amount, up to 10 million yuan
        st.text("0123456789", min_size=6, max_size=32),  # payee account
        st.booleans(),  # the bank paid it
    ),
    min_size=1,
    max_size=6,
)


@db_examples(15)
@given(
    lines=LINES,
    first_part=st.lists(st.integers(0, 5), max_size=6, unique=True),
    order=st.randoms(use_true_random=False),
    copy_as_xlsx=st.booleans(),
)
@example(lines=[(D("5600.00"), "6228480000123456789", True)], first_part=[], order=None, copy_as_xlsx=False)
def test_importing_a_bank_return_again_in_any_form_never_pays_twice(
    township, finance, finance2, lines, first_part, order, copy_as_xlsx
):
    with rolled_back():
        cases = [
            ApprovedCaseFactory(person=PersonFactory(township=township), approved_amount=amount, payee_account=account)
            for amount, account, _ in lines
        ]
        paid_by_bank = {case.pk: paid for case, (_, _, paid) in zip(cases, lines, strict=True)}
        batch = services.batch_create(user=finance)
        batch = services.batch_review(batch=services.batch_lock(batch=batch, user=finance), user=finance2)
        services.batch_export(batch=batch, user=finance)
        rows = {
            line.reference: [
                line.reference,
                line.payee_account,
                str(line.amount),
                "成功" if paid_by_bank[line.case_id] else "失败",
                "" if paid_by_bank[line.case_id] else "户名不符",
            ]
            for line in batch.lines.all()
        }
        references = sorted(rows)
        early = [references[i] for i in first_part if i < len(references)]

        case_of = {line.reference: line.case_id for line in batch.lines.all()}
        files: dict[bytes, BankReturn] = {}
        settled: set[str] = set()

        def imported(file_rows, name):
            """Import a return file, checking what it did: a file seen before is a repeat that changes nothing;
            otherwise every line not settled yet gets its result and every settled one stays as it was."""
            content = as_xlsx(file_rows) if name.endswith(".xlsx") else as_csv(file_rows)
            before = {line.pk: (line.status, line.resolved_at, line.live) for line in PayoutLine.objects.all()}
            outcome = services.bank_return_import(batch=batch, user=finance, file_name=name, content=content)
            named = {row[0] for row in file_rows}
            if content in files:
                assert outcome.repeated and outcome.record.pk == files[content].pk
            else:
                new, old = named - settled, named & settled
                paid = sum(paid_by_bank[case_of[r]] for r in new)
                assert (outcome.record.paid, outcome.record.failed, outcome.record.unchanged) == (
                    paid,
                    len(new) - paid,
                    len(old),
                )
                files[content] = outcome.record
                settled.update(new)
            after = {line.pk: (line.status, line.resolved_at, line.live) for line in PayoutLine.objects.all()}
            assert {pk: v for pk, v in after.items() if before[pk][0] != L.PENDING} == {
                pk: v for pk, v in before.items() if v[0] != L.PENDING
            }  # a line's result is set once

        # Some results may come in a first file; then the whole return, the same file again, and a copy re-ordered
        # (perhaps resaved as .xlsx).
        if early:
            imported([rows[r] for r in early], "part.csv")
        whole_rows = [rows[r] for r in references]
        imported(whole_rows, "return.csv")
        assert settled == set(references)
        imported(whole_rows, "return.csv")
        copy_rows = list(whole_rows)
        if order is not None:
            order.shuffle(copy_rows)
        imported(copy_rows, "return-copy.xlsx" if copy_as_xlsx else "return-copy.csv")
        assert BankReturn.objects.filter(batch=batch).count() == len(files)

        for case in cases:
            case.refresh_from_db()
            paid_lines = PayoutLine.objects.filter(case=case, status=L.PAID).count()
            marked = CaseTransition.objects.filter(case=case, to_status=Case.Status.PAID).count()
            audits = AuditEvent.objects.filter(action="case.mark_paid", object_id=str(case.pk)).count()
            if paid_by_bank[case.pk]:
                assert (case.status, paid_lines, marked, audits) == (Case.Status.PAID, 1, 1, 1)
            else:
                assert (case.status, paid_lines, marked, audits) == (Case.Status.APPROVED, 0, 0, 0)
                assert PayoutLine.objects.get(case=case).status == L.FAILED
        assert not services.payable_cases().exists()  # paid, or waiting for a corrected account
