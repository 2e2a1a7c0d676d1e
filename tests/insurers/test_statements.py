"""Half-year statements and the March clearing: figures, rebuilds, maker-checker, payments and the fund ledger."""

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from audit.models import AuditEvent
from insurers.excel import statement_workbook
from insurers.models import InsurerPayment, InsurerStatement
from insurers.selectors import reserve_position, terms_in_force
from insurers.services import InsurerRefused, payment_record, statement_reject, statement_request, statement_review
from lib.capitals import amount_in_words
from reports.models import FundOutlay
from reports.selectors import dashboard

from .conftest import at, build, manual, onestop, secondary

D = Decimal
S = InsurerStatement.Status
pytestmark = pytest.mark.django_db


def cells(content: bytes) -> dict[str, object]:
    """Label (first column) → the value of the row's amount column (D), as the printed statement shows it."""
    sheet = load_workbook(io.BytesIO(content))["结算单"]
    out = {}
    for row in sheet.iter_rows(values_only=True):
        if row[0] is not None:
            value = row[3]
            out[str(row[0])] = D(str(value)).quantize(D("0.01")) if isinstance(value, int | float) else value
    return out


def pay(statement, user, day="2026-07-05"):
    return payment_record(
        statement=statement,
        user=user,
        amount=abs(statement.amount_due),
        paid_on=datetime.date.fromisoformat(day),
        reference="CZ-001",
    )


def test_terms_in_force_only_inside_the_contract(terms, county):
    assert terms_in_force(county_id=county.pk, day=datetime.date(2026, 5, 1)) == terms
    assert terms_in_force(county_id=county.pk, day=datetime.date(2027, 1, 1)) is None


def test_half_year_counts_inpatient_and_secondary_by_category_and_channel(terms, county, finance, db_person, tk_person):
    onestop(db_person, datetime.date(2026, 3, 10), "8000.00")
    onestop(tk_person, datetime.date(2026, 5, 2), "12000.50")
    onestop(db_person, datetime.date(2026, 4, 1), "300", visit_type="门诊")  # outpatient: not reimbursed
    onestop(db_person, datetime.date(2026, 8, 1), "5000")  # second half
    manual(tk_person, datetime.date(2026, 6, 5), "2500.25")
    secondary(db_person, datetime.datetime(2026, 6, 20, 3, tzinfo=datetime.UTC), "5600")
    with at("2026-07-05"):
        statement = build(county=county, user=finance)
    assert statement.status == S.BUILT
    assert (statement.inpatient_visits, statement.inpatient_amount) == (3, D("22500.75"))
    assert (statement.secondary_visits, statement.secondary_amount) == (1, D("5600.00"))
    assert statement.assistance == statement.amount_due == D("28100.75")
    rows = {(r["kind"], r["category"], r["channel"]): (r["visits"], D(r["amount"])) for r in statement.figures["rows"]}
    assert rows[("inpatient", "DB", "onestop")] == (1, D("8000.00"))
    assert rows[("inpatient", "TK", "onestop")] == (1, D("12000.50"))
    assert rows[("inpatient", "TK", "manual")] == (1, D("2500.25"))
    assert rows[("secondary", "", "secondary")][1] == D("5600.00")
    assert statement.terms["insurer_name"].startswith("中国人寿")


def test_a_half_year_with_no_activity(terms, county, finance, finance2):
    with at("2026-07-05"):
        statement = build(county=county, user=finance)
        assert statement.assistance == statement.amount_due == 0
        assert statement.figures["rows"] == []
        statement = statement_review(statement=statement, user=finance2)
    assert statement.status == S.SETTLED  # nothing due: settled by the review
    values = cells(statement_workbook(statement))
    assert values["实际救助合计"] == 0
    assert values["本次结算金额（大写）"] == "零元整"


def test_maker_cannot_review_and_a_second_finance_user_can(terms, county, finance, finance2, db_person):
    onestop(db_person, datetime.date(2026, 3, 10), "8000")
    with at("2026-07-05"):
        statement = build(county=county, user=finance)
        with pytest.raises(InsurerRefused, match="制单人不能复核"):
            statement_review(statement=statement, user=finance)
        with pytest.raises(InsurerRefused, match="只有已复核"):
            pay(statement, finance)
        statement = statement_review(statement=statement, user=finance2)
        assert statement.status == S.REVIEWED and statement.reviewed_by == finance2
        payment = pay(statement, finance)
    statement.refresh_from_db()
    assert statement.status == S.SETTLED
    assert payment.direction == InsurerPayment.Direction.TO_INSURER and payment.amount == D("8000.00")
    outlay = FundOutlay.objects.get()
    assert (outlay.kind, outlay.amount, outlay.year, outlay.county) == ("insurer", D("8000.00"), 2026, county)
    actions = list(AuditEvent.objects.filter(object_id=str(statement.pk)).values_list("action", flat=True))
    for action in (
        "insurer.statement_request",
        "insurer.statement_build",
        "insurer.statement_review",
        "insurer.payment",
        "insurer.statement_settle",
    ):
        assert action in actions


def test_reject_needs_a_reason_and_lets_the_period_be_built_again(terms, county, finance, finance2):
    with at("2026-07-05"):
        statement = build(county=county, user=finance)
        with pytest.raises(InsurerRefused):
            statement_reject(statement=statement, user=finance2, reason=" ")
        statement_reject(statement=statement, user=finance2, reason="数据未导入完整")
        again = build(county=county, user=finance)
    assert again.revision == 2 and again.previous == statement


def test_rebuilt_after_a_late_settlement_import_shows_the_difference(terms, county, finance, finance2, db_person):
    onestop(db_person, datetime.date(2026, 3, 10), "8000")
    with at("2026-07-05"):
        first = statement_review(statement=build(county=county, user=finance), user=finance2)
        pay(first, finance, "2026-07-05")
        # The June extract arrives late, with one more stay of the first half.
        onestop(db_person, datetime.date(2026, 6, 28), "1234.56")
        second = build(county=county, user=finance)
    assert second.revision == 2 and second.previous == first
    assert second.assistance == D("9234.56")
    assert second.difference == D("1234.56")
    assert second.previously_paid == D("8000.00")
    assert second.amount_due == D("1234.56")
    values = cells(statement_workbook(second))
    assert values["较上一版本增减"] == D("1234.56")
    assert values["本次结算金额（大写）"] == amount_in_words(D("1234.56")) == "壹仟贰佰叁拾肆元伍角陆分"


def test_an_open_revision_is_replaced_but_one_with_payments_is_not(terms, county, finance, finance2, db_person):
    onestop(db_person, datetime.date(2026, 3, 10), "8000")
    with at("2026-07-05"):
        first = build(county=county, user=finance)
        second = build(county=county, user=finance)
        first.refresh_from_db()
        assert first.status == S.SUPERSEDED and second.status == S.BUILT
        second = statement_review(statement=second, user=finance2)
        payment_record(statement=second, user=finance, amount=D("3000"), paid_on=datetime.date(2026, 7, 5))
        with pytest.raises(InsurerRefused, match="已有拨付记录"):
            build(county=county, user=finance)
        with pytest.raises(InsurerRefused, match="超过"):
            payment_record(statement=second, user=finance, amount=D("5000.01"), paid_on=datetime.date(2026, 7, 5))


def _two_halves(county, finance, finance2, person):
    onestop(person, datetime.date(2026, 3, 10), "400000")
    onestop(person, datetime.date(2026, 9, 10), "600000")
    with at("2026-07-05"):
        pay(
            statement_review(statement=build(county=county, user=finance, half=1), user=finance2), finance, "2026-07-05"
        )
    with at("2026-12-20"):
        pay(
            statement_review(statement=build(county=county, user=finance, half=2), user=finance2), finance, "2026-12-20"
        )


def test_clearing_owed_to_the_insurer(terms, county, finance, finance2, db_person):
    _two_halves(county, finance, finance2, db_person)
    onestop(db_person, datetime.date(2026, 12, 28), "50000")  # December stays settled after the instalment
    with at("2027-03-10"):
        clearing = build(county=county, user=finance, kind="clearing", half=None)
        assert clearing.assistance == D("1050000.00")
        assert clearing.instalments == D("1000000.00")
        assert clearing.fee == D("8400.00") and not clearing.fee_capped  # 1,050,000 × 0.8%
        assert clearing.amount_due == D("58400.00")
        clearing = statement_review(statement=clearing, user=finance2)
        pay(clearing, finance, "2027-03-10")
    payment = clearing.payments.get()
    assert payment.direction == "to_insurer" and payment.fee == D("8400.00")
    assert dashboard(year=2026, county=county)["fund"]["insurer_fee"] == D("8400.00")
    assert reserve_position(county_id=county.pk, year=2026)["outstanding"] == 0
    values = cells(statement_workbook(clearing))
    assert values["本次结算金额（大写）"] == "伍万捌仟肆佰元整"


def test_clearing_owed_back_by_the_insurer(terms, county, finance, finance2, db_person):
    _two_halves(county, finance, finance2, db_person)
    # A corrected extract lowers a September stay's assistance after the second instalment was paid.
    from settlements.models import Settlement

    Settlement.objects.filter(service_date=datetime.date(2026, 9, 10)).update(onestop=D("500000"))
    with at("2027-03-10"):
        clearing = build(county=county, user=finance, kind="clearing", half=None)
        assert clearing.assistance == D("900000.00")
        assert clearing.fee == D("7200.00")
        assert clearing.amount_due == D("-92800.00")  # 900,000 + 7,200 − 1,000,000
        clearing = statement_review(statement=clearing, user=finance2)
        pay(clearing, finance, "2027-03-10")
    payment = clearing.payments.get()
    assert payment.direction == "from_insurer" and payment.amount == D("92800.00")
    refund = FundOutlay.objects.get(kind="insurer_refund")
    assert (refund.amount, refund.fee) == (D("92800.00"), D("7200.00"))
    fund = dashboard(year=2026, county=county)["fund"]
    assert fund["to_insurer"] == D("1000000") - D("92800.00")
    assert fund["insurer_fee"] == D("7200.00")
    values = cells(statement_workbook(clearing))
    assert values["本次结算金额（大写）"] == "玖万贰仟捌佰元整"


def test_fee_cap_binds_in_the_clearing(terms, county, finance, finance2, db_person):
    onestop(db_person, datetime.date(2026, 4, 1), "15000000")
    with at("2027-03-02"):
        clearing = build(county=county, user=finance, kind="clearing", half=None)
    assert clearing.fee_uncapped == D("120000.00") and clearing.fee == D("100000.00") and clearing.fee_capped
    assert clearing.amount_due == D("15100000.00")  # no instalment was paid


def test_fee_base_counts_outpatient_assistance_too(terms, county, finance, db_person):
    onestop(db_person, datetime.date(2026, 4, 1), "100000")
    onestop(db_person, datetime.date(2026, 4, 2), "50000", visit_type="门诊")
    with at("2027-03-02"):
        clearing = build(county=county, user=finance, kind="clearing", half=None)
    assert clearing.assistance == D("100000.00")
    assert clearing.fee_base_amount == D("150000.00") and clearing.fee == D("1200.00")


def test_no_clearing_before_the_year_ends_and_no_half_after_the_clearing(terms, county, finance, finance2):
    with at("2026-12-20"), pytest.raises(InsurerRefused, match="尚未结束"):
        build(county=county, user=finance, kind="clearing", half=None)
    with at("2027-03-02"):
        build(county=county, user=finance, kind="clearing", half=None)
        with pytest.raises(InsurerRefused, match="已进行清算"):
            build(county=county, user=finance, half=2)


def test_a_county_without_an_insurer_has_no_statement(county, finance):
    with at("2026-07-05"), pytest.raises(InsurerRefused, match="未委托"):
        statement_request(user=finance, county=county, kind="half", year=2026, half=1, queue=False)
