"""The yearly workbook as a reader sees it: where the charts sit, the headings, the category of every 明细 row,
the assistance counted without a valid identity named and explained, and no cell a formula."""

import datetime
import io
import re
import zipfile
from collections import Counter
from decimal import Decimal
from xml.etree import ElementTree

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from applications.models import Bill, Case, YearlyBurden
from applications.policy.services import policy_load_preset
from lib.spreadsheet import FORMULA_STARTS
from recipients.categories import CATEGORY_ORDER
from reports.excel import report_workbook
from reports.facts import refresh_facts
from reports.labels import UNIDENTIFIED, UNIDENTIFIED_NOTE
from reports.selectors import dashboard
from tests.factories import IdentityFactory, PersonFactory, TownshipFactory, settle

D = Decimal
NS = {
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def year(township):
    """A Maoming year: a DB person with two one-stop stays and an approved bill, a TK person of a township whose
    name looks like a formula, someone whose identity began after their one-stop stay (unidentified), and a
    paid secondary case counted under its yearly burden's category."""
    policy_load_preset(name="maoming-2018", county=township.county)
    db = PersonFactory(township=township, name="=1+2")
    IdentityFactory(person=db, category="DB", valid_from=datetime.date(2024, 1, 1))
    IdentityFactory(person=db, category="QT", valid_from=datetime.date(2024, 1, 1))  # DB comes first
    hostile = TownshipFactory(name='=HYPERLINK("http://x","镇")', county=township.county)
    tk = PersonFactory(township=hostile)
    IdentityFactory(person=tk, category="TK", valid_from=datetime.date(2024, 1, 1))
    late = PersonFactory(township=township)
    IdentityFactory(person=late, category="DB", valid_from=datetime.date(2025, 9, 1))
    settle(db, day=datetime.date(2025, 3, 5), onestop=D("8000"))
    settle(db, day=datetime.date(2025, 5, 6), onestop=D("1200.50"))
    settle(tk, day=datetime.date(2025, 7, 7), onestop=D("12000"))
    settle(late, day=datetime.date(2025, 8, 8), onestop=D("300"))  # before the identity: 未识别
    window = Case.objects.create(
        number="LX1", person=db, township=township, status=Case.Status.PAID, approved_amount=D("640")
    )
    Bill.objects.create(
        case=window,
        hospital="高州市人民医院",
        visit_type="门诊",
        visit_on=datetime.date(2025, 10, 1),
        invoice_number="FP1",
        total=D("1000"),
        in_policy=D("900"),
        basic=D("100"),
        granted=D("640"),
        claimed=True,
    )
    Case.objects.create(
        number="EC1",
        person=db,
        township=township,
        source=Case.Source.SECONDARY,
        year=2025,
        status=Case.Status.APPROVED,
        approved_amount=D("5600"),
        decided_at=datetime.datetime(2026, 1, 20, 2, 0, tzinfo=datetime.UTC),
        calculation=[{"kind": "secondary", "category": "DB"}],
    )
    YearlyBurden.objects.create(
        person=db,
        township=township,
        year=2025,
        burden=D("10000"),
        category="DB",
        computed_at=datetime.datetime(2026, 1, 10, tzinfo=datetime.UTC),
    )
    refresh_facts(year=2025)
    return {"db": db, "tk": tk, "late": late, "hostile": hostile}


def workbook(content):
    return load_workbook(io.BytesIO(content))


def chart_anchors(content) -> dict[str, list[tuple[int, int, int, int]]]:
    """Each sheet's drawings as (first col, first row, last col, last row), 0-based, read from xl/drawings."""
    archive = zipfile.ZipFile(io.BytesIO(content))
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", NS)}
    anchors = {}
    for sheet in book.find("main:sheets", NS):
        path = "xl/" + targets[sheet.get(f"{{{NS['r']}}}id")].lstrip("/").removeprefix("xl/")
        rel_path = path.replace("worksheets/", "worksheets/_rels/") + ".rels"
        anchors[sheet.get("name")] = []
        if rel_path not in archive.namelist():
            continue
        for rel in ElementTree.fromstring(archive.read(rel_path)).findall("rel:Relationship", NS):
            if not rel.get("Type").endswith("/drawing"):
                continue
            drawing = ElementTree.fromstring(archive.read("xl/drawings/" + rel.get("Target").split("/")[-1]))
            for anchor in drawing.findall("xdr:twoCellAnchor", NS):
                start, end = anchor.find("xdr:from", NS), anchor.find("xdr:to", NS)
                anchors[sheet.get("name")].append(
                    tuple(int(node.find(f"xdr:{k}", NS).text) for node in (start, end) for k in ("col", "row"))
                )
    return anchors


def filled_cells(sheet) -> set[tuple[int, int]]:
    """(col, row), 0-based, of every cell with a value, merged ranges included."""
    cells = {(c.column - 1, c.row - 1) for row in sheet.iter_rows() for c in row if c.value not in (None, "")}
    for merged in sheet.merged_cells.ranges:
        min_col, min_row, max_col, max_row = range_boundaries(str(merged))
        cells |= {(c - 1, r - 1) for c in range(min_col, max_col + 1) for r in range(min_row, max_row + 1)}
    return cells


def test_no_chart_covers_a_filled_cell_and_the_summary_chart_lies_below_every_table(year):
    content = report_workbook(year=2025)
    book, anchors = workbook(content), chart_anchors(content)
    assert {name: len(a) for name, a in anchors.items()} == {
        "汇总": 1,
        "按乡镇": 1,
        "按类别": 1,
        "按月": 1,
        "追回": 0,
        "回访与投诉": 0,
        "明细": 0,
    }
    for name, rects in anchors.items():
        cells = filled_cells(book[name])
        for first_col, first_row, last_col, last_row in rects:
            covered = {(c, r) for c, r in cells if first_col <= c <= last_col and first_row <= r <= last_row}
            assert not covered, f"{name} 的图表遮住了 {sorted(covered)[:5]}"
    (first_col, first_row, _, _), summary_cells = anchors["汇总"][0], filled_cells(book["汇总"])
    assert first_row > max(r for _, r in summary_cells) and first_col == 0


def test_the_channel_rows_have_a_heading_and_feed_the_chart(year):
    book = workbook(report_workbook(year=2025))
    rows = [r for r in book["汇总"].iter_rows(values_only=True)]
    heading = next(i for i, r in enumerate(rows) if r[0] == "救助渠道")
    assert rows[heading][:4] == ("救助渠道", "人次", "金额（元）", "人次占比")
    assert [r[0] for r in rows[heading + 1 : heading + 5]] == ["一站式结算", "零星报销", "二次救助", "合计"]
    assert [r[1] for r in rows[heading + 1 : heading + 5]] == [4, 1, 1, 6]
    assert D(str(rows[heading + 4][2])) == D("8000") + D("1200.50") + D("12000") + D("300") + D("640") + D("5600")
    (chart,) = book["汇总"]._charts
    ref = chart.series[0].cat.strRef.f if chart.series[0].cat.strRef else chart.series[0].cat.numRef.f
    assert ref == f"'汇总'!$A${heading + 2}:$A${heading + 4}" or ref == f"汇总!$A${heading + 2}:$A${heading + 4}"


def test_every_detail_row_has_the_category_the_summary_counts_it_under(year):
    book = workbook(report_workbook(year=2025))
    detail = list(book["明细"].iter_rows(min_row=2, values_only=True))
    assert len(detail) == 6 and all(r[6] for r in detail)
    by_channel = Counter((r[0], r[6]) for r in detail)
    assert by_channel == {
        ("一站式结算", "最低生活保障对象"): 2,  # DB before QT
        ("一站式结算", "特困供养人员"): 1,
        ("一站式结算", UNIDENTIFIED): 1,
        ("零星报销", "最低生活保障对象"): 1,
        ("二次救助", "最低生活保障对象"): 1,
    }
    table = [r for r in book["按类别"].iter_rows(min_row=2, values_only=True) if r[1] is not None]
    assert table[-1][0] == "合计" and table[-1][1] == len(detail)  # the table's total row
    by_category = {r[0]: r[1] for r in table[:-1]}
    assert by_category == Counter(r[6] for r in detail)
    amounts = Counter()
    for r in detail:
        amounts[r[6]] += D(str(r[7]))
    sheet_amounts = {r[0]: D(str(r[2])) for r in table[:-1]}
    assert sheet_amounts == dict(amounts)
    assert D(str(table[-1][2])) == sum(amounts.values())


def test_unidentified_assistance_is_labelled_and_explained_in_the_workbook(year):
    book = workbook(report_workbook(year=2025))
    rows = list(book["按类别"].iter_rows(min_row=2, values_only=True))
    table = [r for r in rows if r[1] is not None]
    assert table[-2][:2] == (UNIDENTIFIED, 1) and table[-1][0] == "合计"  # listed last, after every category
    assert [r[0] for r in rows if r[0] and r[1] is None] == [UNIDENTIFIED_NOTE]  # the note below the table
    notes = [r[0] for r in book["汇总"].iter_rows(values_only=True) if r[0] and str(r[0]).startswith("“无有效身份")]
    assert notes == [f"{UNIDENTIFIED_NOTE}本年共 1 人次、300.00 元。"]
    assert UNIDENTIFIED_NOTE in book["明细"].oddHeader.left.text  # printed on every page of 明细
    assert "未识别" not in {r[0] for r in table}  # never the bare word


def test_without_unidentified_assistance_no_note(township):
    policy_load_preset(name="maoming-2018", county=township.county)
    person = PersonFactory(township=township)
    IdentityFactory(person=person, category="DB", valid_from=datetime.date(2024, 1, 1))
    settle(person, day=datetime.date(2025, 3, 5), onestop=D("100"))
    refresh_facts(year=2025)
    book = workbook(report_workbook(year=2025))
    assert not any(UNIDENTIFIED_NOTE in str(c) for r in book["按类别"].iter_rows(values_only=True) for c in r if c)
    assert book["明细"].oddHeader.left.text is None


def test_no_cell_starts_a_formula_and_ids_are_masked_unless_unmasked(year):
    content = report_workbook(year=2025)
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert not any(b"<f>" in archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/"))
    book = workbook(content)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and v and v[0] in FORMULA_STARTS for v in row), row
    detail = list(book["明细"].iter_rows(min_row=2, values_only=True))
    assert "'=1+2" in {r[4] for r in detail} and any(str(r[3]).startswith("'=HYPERLINK") for r in detail)
    assert all(re.fullmatch(r"\d{4}\*{10}[\dX]{4}", r[5]) for r in detail)
    full = list(workbook(report_workbook(year=2025, masked=False))["明细"].iter_rows(min_row=2, values_only=True))
    assert {r[5] for r in full} == {year["db"].id_number, year["tk"].id_number, year["late"].id_number}


def test_a_township_report_keeps_to_the_township(year):
    book = workbook(report_workbook(year=2025, township=year["hostile"]))
    detail = list(book["明细"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[6]) for r in detail] == [("一站式结算", "特困供养人员")]
    assert book["汇总"]["A1"].value.endswith("）") and "HYPERLINK" in book["汇总"]["A1"].value
    assert "救助资金（全县）" in {r[0] for r in book["汇总"].iter_rows(values_only=True)}  # not the township's


def test_the_month_table_lists_every_month_up_to_the_last_with_data(year):
    months = [r[0] for r in workbook(report_workbook(year=2025))["按月"].iter_rows(min_row=2, values_only=True)]
    assert months == [*(f"{m} 月" for m in range(1, 13)), "合计"]  # the secondary case counts in December


def test_the_dashboard_names_and_explains_unidentified_assistance(client, year, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("reports:dashboard"), {"year": 2025})
    text = page.content.decode()
    assert UNIDENTIFIED in page.context["charts"]["category"]["labels"]
    assert 'data-testid="unidentified-note"' in text and "身份尚未录入名册" in text
    categories = [r["category"] for r in dashboard(year=2025)["by_category"]]
    assert categories[-1] == "" and categories[:-1] == [c for c in CATEGORY_ORDER if c in categories]  # as in 按类别
