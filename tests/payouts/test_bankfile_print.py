"""The bank file and the 公示名单 as printed documents: A4 page set-up, titles, borders, the total row in figures and
capitals, signatures, the public notice's terms and masking; and the bank's plain table and reproducible bytes kept."""

import datetime
import hashlib
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from accounts.roles import Role
from applications.models import Bill, Case
from audit.models import AuditEvent
from lib.capitals import amount_in_words
from payouts import bankfile_v1, services
from payouts.bankfile import DETAIL_HEADERS
from payouts.models import PayoutBatch
from payouts.notice import mask_name, public_notice
from payouts.workbook import page_starts
from tests.factories import PersonFactory, TownshipFactory, UserFactory

D = Decimal
NOTICE_DAY = datetime.date(2026, 11, 25)


@pytest.fixture
def checker(db):
    return UserFactory(username="checker", role=Role.FINANCE, full_name="李复核")


def approved_case(township, amount, *, name=None, source="window", bills=(), purpose_bank="中国农业银行高州支行"):
    person = PersonFactory(township=township, **({"name": name} if name else {}))
    case = Case.objects.create(
        number=f"P{person.pk:08d}",
        person=person,
        township=township,
        source=source,
        status=Case.Status.APPROVED,
        approved_amount=D(amount),
        payee_name=person.name,
        payee_bank=purpose_bank,
        payee_account=f"62284800{person.pk:011d}",
        decided_at=datetime.datetime(2026, 11, 2, 3, tzinfo=datetime.UTC),
    )
    for n, visit_type in enumerate(bills):
        dates = {"discharged_on": datetime.date(2026, 10, 9)} if visit_type == "住院" else {}
        Bill.objects.create(
            case=case,
            hospital="高州市人民医院",
            visit_type=visit_type,
            visit_on=datetime.date(2026, 10, 5),
            invoice_number=f"{case.number}-{n}",
            total=D(amount) * 3,
            in_policy=D(amount) * 2,
            granted=D(amount) / len(bills),
            **dates,
        )
    return case


@pytest.fixture
def batch(township, finance, checker):
    """Ten lines across three townships, of every source and kind of bill."""
    east, west = TownshipFactory(name="东岸镇"), TownshipFactory(name="分界镇")
    approved_case(township, "1234.56", name="王秀英", source="lead", bills=["住院"])
    approved_case(township, "100", name='=HYPERLINK("http://x")', bills=["门诊"])
    approved_case(township, "88.80", name="欧阳小明", source="secondary")
    approved_case(
        east, "2500.05", bills=["住院", "门诊慢特病"], purpose_bank="中国农业银行股份有限公司高州市石鼓镇营业所分理处"
    )
    approved_case(east, "321")
    for n in range(5):
        approved_case(west, f"{1000 + n}.10", source="lead", bills=["门诊"])
    made = services.batch_create(user=finance, purpose="2026年11月医疗救助金（住院、门诊及二次救助）")
    services.batch_lock(batch=made, user=finance)
    return services.batch_review(batch=made, user=checker)


def export(batch, finance):
    with time_machine.travel(datetime.datetime(2026, 11, 24, 9, 30, tzinfo=datetime.UTC), tick=False):
        return load_workbook(io.BytesIO(services.batch_export(batch=batch, user=finance)))


def cells(sheet):
    return [v for row in sheet.iter_rows(values_only=True) for v in row if v is not None]


# --- the bank file ---------------------------------------------------------------------------------------------


def test_bank_sheet_stays_the_plain_table_the_bank_reads(batch, finance):
    sheet = export(batch, finance)["代发明细"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(DETAIL_HEADERS) and len(rows) == 1 + batch.line_count  # no title, total or signature
    assert [r[0] for r in rows[1:]] == list(range(1, 11))
    assert all(sheet.cell(row=r, column=c).data_type == "s" for r in range(2, 12) for c in (2, 6, 8))
    formula = next(r for r in range(2, 12) if sheet.cell(row=r, column=2).value.startswith("="))
    assert sheet.cell(row=formula, column=2).quotePrefix


def test_bank_sheet_prints_on_a4_landscape_one_page_wide_with_title_borders_and_page_numbers(batch, finance):
    sheet = export(batch, finance)["代发明细"]
    setup = sheet.page_setup
    assert setup.orientation == "landscape" and setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (None, 1) and setup.fitToHeight == 0
    assert sheet.print_title_rows == "$1:$1"  # the header row on every page
    header = sheet.oddHeader
    assert "医疗救助代发明细表" in header.center.text
    assert batch.number in header.left.text and batch.purpose in header.left.text
    assert "2026年11月24日" in header.right.text  # the first export's date
    footer = sheet.oddFooter
    assert "第 &P 页 共 &N 页" in footer.right.text
    assert "共 10 笔" in footer.left.text and amount_in_words(batch.total) in footer.left.text
    for row in sheet.iter_rows(min_row=1, max_row=11):
        assert all(cell.border.left.style == "thin" and cell.border.bottom.style == "thin" for cell in row)


def test_columns_keep_amounts_apart_from_ids_and_show_the_whole_purpose(batch, finance):
    sheet = export(batch, finance)["代发明细"]
    width = {c: sheet.column_dimensions[c].width for c in "ABCDEFGH"}
    assert width["E"] >= len("999,999,999.99") + 1 and sheet["E2"].alignment.indent >= 1
    assert sheet["F2"].alignment.indent >= 1  # the ID starts away from the amount before it
    assert sheet["E2"].alignment.shrink_to_fit is not True
    assert width["F"] >= 19  # an 18-character ID on one line
    purpose = "2026年11月医疗救助金（住院、门诊及二次救助）"
    assert width["G"] >= 40 and sheet["G2"].alignment.wrap_text  # wider, and wrapped beyond what fits
    long_bank = next(r for r in range(2, 12) if len(sheet.cell(row=r, column=4).value) > 20)
    assert sheet.row_dimensions[long_bank].height >= 30 and sheet.cell(row=long_bank, column=4).alignment.wrap_text
    assert sheet["G2"].value == purpose


def test_summary_is_the_printed_cover_with_total_row_capitals_and_signature_lines(batch, finance, checker):
    book = export(batch, finance)
    sheet = book["汇总"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "医疗救助代发汇总表"
    facts = {row[0]: row[1] for row in rows if row[0]}
    assert facts["批次号"] == batch.number and facts["笔数"] == 10 == batch.line_count
    assert D(str(facts["金额合计（小写）"])) == batch.total == D("9254.91")
    assert facts["金额合计（大写）"] == amount_in_words(batch.total) == "玖仟贰佰伍拾肆元玖角壹分"
    assert facts["复核人"] == "李复核" and facts["导出时间"] == "2026-11-24 17:30"
    assert facts["石鼓镇"] == 3 and facts["东岸镇"] == 2 and facts["分界镇"] == 5
    total_row = next(i for i, row in enumerate(rows) if row[0] == "合计")
    assert rows[total_row][1] == 10 and D(str(rows[total_row][2])).quantize(D("0.01")) == batch.total
    township_total = sum(D(str(row[2])) for row in rows if row[0] in ("石鼓镇", "东岸镇", "分界镇"))
    assert township_total.quantize(D("0.01")) == batch.total
    signatures = [v for row in rows[total_row + 1 :] for v in row if v]
    assert {"制单：", "复核：", "审批：", "日期："} <= set(signatures)
    setup = sheet.page_setup
    assert setup.orientation == "portrait" and setup.paperSize == 9 and setup.fitToHeight == 0
    assert "第 &P 页 共 &N 页" in sheet.oddFooter.right.text
    assert sheet.cell(row=total_row + 1, column=1).border.top.style == "thin"


def test_re_export_later_gives_the_same_bytes(batch, finance):
    first = services.batch_export(batch=batch, user=finance)
    with time_machine.travel(datetime.datetime(2027, 3, 1, 8, tzinfo=datetime.UTC), tick=False):
        again = services.batch_export(batch=batch, user=finance)
    batch.refresh_from_db()
    assert again == first and batch.content_hash == hashlib.sha256(first).hexdigest() and batch.export_count == 2


def test_a_batch_first_exported_in_the_earlier_layout_gets_that_file_again(batch, finance):
    services.batch_export(batch=batch, user=finance)
    batch.refresh_from_db()
    earlier = bankfile_v1.bank_file(batch)
    # As the portal recorded it before the printable layout: the hash of the earlier file.
    PayoutBatch.objects.filter(pk=batch.pk).update(content_hash=hashlib.sha256(earlier).hexdigest())
    assert services.batch_export(batch=batch, user=finance) == earlier
    PayoutBatch.objects.filter(pk=batch.pk).update(content_hash="0" * 64)  # neither layout: still refused
    with pytest.raises(services.PayoutRefused, match="不一致"):
        services.batch_export(batch=batch, user=finance)


# --- the public notice -------------------------------------------------------------------------------------


def notice(batch, **options):
    return load_workbook(io.BytesIO(public_notice(batch, notice_date=NOTICE_DAY, **options)))


def table(sheet):
    rows = list(sheet.iter_rows(values_only=True))
    head = [row[0] for row in rows].index("序号")
    end = next(i for i in range(head + 1, len(rows)) if rows[i][0] == "合计")
    return rows[:head], rows[head], rows[head + 1 : end], rows[end], rows[end + 1 :]


def test_public_notice_reads_as_a_notice_with_its_terms(batch, settings):
    settings.PUBLIC_NOTICE_DAYS = 10
    settings.PUBLIC_NOTICE_PHONE = "0668-6688123"
    sheet = notice(batch)["公示名单"]
    top, head, lines, total, bottom = table(sheet)
    text = [v for row in top for v in row if v]
    assert text[0] == "高州市医疗救助待遇发放公示"
    assert any("2026年11月2日审批的" in t and batch.number in t for t in text)
    assert "公示期：2026年11月25日至2026年12月4日（共 10 天）" in text
    assert "监督电话：0668-6688123" in text
    assert head == ("序号", "乡镇（街道）", "姓名", "身份证号", "救助类型", "救助金额（元）")
    assert len(lines) == 10 and [row[0] for row in lines] == list(range(1, 11))
    assert total[3] == "共 10 人次" and D(str(total[5])).quantize(D("0.01")) == batch.total
    assert [v for row in bottom for v in row if v] == ["高州市医疗保障局", "2026年11月25日"]


def test_public_notice_asks_for_the_phone_when_none_is_set(batch, settings):
    settings.PUBLIC_NOTICE_PHONE = ""
    settings.PUBLIC_NOTICE_ISSUER = "高州市医疗保障局（医疗救助股）"
    everything = cells(notice(batch)["公示名单"])
    phone = next(v for v in everything if str(v).startswith("监督电话"))
    assert "请填写" in phone and "（共 7 天）" in "".join(map(str, everything))
    assert "高州市医疗保障局（医疗救助股）" in everything


def test_public_notice_names_the_benefit_never_the_internal_source(batch):
    sheet = notice(batch)["公示名单"]
    _, _, lines, _, _ = table(sheet)
    kinds = {row[2]: row[4] for row in lines}
    assert kinds["王*英"] == "住院医疗救助"  # a case from a 主动救助 lead is medical assistance like any
    assert kinds["欧**明"] == "二次救助"
    assert sorted(kinds.values()).count("门诊医疗救助") == 6 and "住院、门诊医疗救助" in kinds.values()
    assert "医疗救助" in kinds.values()  # a case without granted bills
    everything = "".join(str(v) for v in cells(sheet))
    for internal in ("主动救助线索", "窗口申请", "lead", "window", "secondary"):
        assert internal not in everything


def test_public_notice_masks_names_and_ids_and_guards_formulas(batch):
    sheet = notice(batch)["公示名单"]
    everything = [str(v) for v in cells(sheet)]
    for line in batch.lines.select_related("case__person"):
        assert line.id_number not in everything and line.case.person.name not in everything
    _, _, lines, _, _ = table(sheet)
    assert all(row[3].startswith("4409") and "**" in row[3] for row in lines)
    guarded = next(r for r in sheet.iter_rows() if str(r[2].value).startswith("="))
    assert guarded[2].value == "=**)" and guarded[2].quotePrefix


@pytest.mark.parametrize(
    "name, masked",
    [("张三", "张*"), ("王秀英", "王*英"), ("欧阳小明", "欧**明"), ("阿卜杜热合曼·买买提", "阿**提"), ("李", "李")],
)
def test_names_are_masked_with_at_most_two_stars(name, masked):
    assert mask_name(name) == masked


def test_public_notice_prints_on_a4_with_repeated_header_and_page_numbers(batch):
    sheet = notice(batch)["公示名单"]
    setup = sheet.page_setup
    assert setup.orientation == "portrait" and setup.paperSize == 9 and setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    top, *_ = table(sheet)
    assert sheet.print_title_rows == f"${len(top) + 1}:${len(top) + 1}"
    assert "第 &P 页 共 &N 页" in sheet.oddFooter.center.text
    head_row = len(top) + 1
    assert all(sheet.cell(row=head_row + 1, column=c).border.left.style == "thin" for c in range(1, 7))


@pytest.mark.parametrize(
    "lines, starts",
    [
        (0, []),
        (10, []),
        (25, []),
        (26, [24]),
        (30, [28]),
        (31, [29]),
        (60, [31, 58]),
        (64, [31, 62]),
        (100, [31, 65, 98]),
    ],
)
def test_page_breaks_keep_the_total_and_office_with_at_least_three_lines(lines, starts):
    # first page 30 lines, then 34; the total row, the office and the date take 5.
    assert page_starts(lines, 30, 34, 5) == starts


def test_a_long_notice_is_broken_into_pages_that_never_orphan_its_total(township, finance, checker):
    for n in range(70):
        approved_case(township, f"{100 + n}", bills=["住院"])
    made = services.batch_create(user=finance)
    services.batch_lock(batch=made, user=finance)
    made = services.batch_review(batch=made, user=checker)
    sheet = notice(made)["公示名单"]
    top, *_ = table(sheet)
    starts = [brk.id - len(top) for brk in sheet.row_breaks.brk]  # the line each new page begins with
    assert len(starts) >= 2 and starts == sorted(starts)
    assert 70 - starts[-1] + 1 >= 3  # the last page: at least three lines above the total row
    pages = [b - a for a, b in zip([1, *starts], [*starts, 71], strict=True)]
    assert all(size >= 3 for size in pages) and max(pages) <= 40


def test_public_notice_by_township_gives_each_its_own_sheet_and_total(batch):
    book = notice(batch, by_township=True)
    assert book.sheetnames == ["东岸镇", "分界镇", "石鼓镇"]
    for name, count in (("东岸镇", 2), ("分界镇", 5), ("石鼓镇", 3)):
        top, _, lines, total, _ = table(book[name])
        assert top[0][0] == f"高州市{name}医疗救助待遇发放公示"
        assert len(lines) == count and {row[1] for row in lines} == {name} and total[3] == f"共 {count} 人次"
        assert name in book[name].oddFooter.center.text


def test_the_same_notice_date_gives_the_same_notice(batch):
    assert public_notice(batch, notice_date=NOTICE_DAY) == public_notice(batch, notice_date=NOTICE_DAY)


def test_notice_page_takes_the_date_and_records_it(client, batch, finance):
    client.force_login(finance)
    url = reverse("payouts:public_notice", args=[batch.pk])
    response = client.get(url, {"date": "2026-11-30", "by_township": "1"})
    assert response.status_code == 200 and "20261130" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert "公示期：2026年11月30日至2026年12月6日（共 7 天）" in cells(book["石鼓镇"])
    event = AuditEvent.objects.filter(action="payout.notice").latest("pk")
    assert event.after == {"date": "2026-11-30", "by_township": True}
    assert client.get(url, {"date": "30/11"}).status_code == 302
    detail = client.get(reverse("payouts:batch_detail", args=[batch.pk])).content.decode()
    assert 'data-testid="notice-form"' in detail and 'name="by_township"' in detail


def test_export_command_writes_the_notice_beside_the_bank_file(tmp_path, batch, capsys):
    out, board = tmp_path / "daifa.xlsx", tmp_path / "gongshi.xlsx"
    call_command("export_batch", batch.number, str(out), "--notice", str(board), "--notice-date", "2026-11-25")
    assert "公示名单（公示日期 2026-11-25）" in capsys.readouterr().out
    assert load_workbook(out).sheetnames == ["代发明细", "汇总"]
    assert "公示期：2026年11月25日至2026年12月1日（共 7 天）" in cells(load_workbook(board)["公示名单"])
