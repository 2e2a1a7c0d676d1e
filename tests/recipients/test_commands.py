import datetime
import random
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from accounts.models import User
from accounts.roles import PREFECTURE_ROLES, Role
from recipients import demo
from recipients.models import Identity, Person, RosterImport, Township
from tests.factories import valid_id_number

ID = valid_id_number(datetime.date(1961, 2, 3))


def write(tmp_path, rows, name="roster.csv"):
    path = tmp_path / name
    path.write_bytes(demo.to_csv(rows))
    return path


def test_import_recipients_prints_a_summary(tmp_path, village, capsys):
    path = write(tmp_path, [[ID, "王秀英", "DB", "2023-01-01", "", "石鼓镇", "石鼓村", "", "", "", ""]])
    call_command("import_recipients", str(path), "--source", "民政")
    out = capsys.readouterr().out
    assert "导入完成" in out and "新增 1" in out
    imp = RosterImport.objects.get()
    assert imp.created_by is None and imp.status == RosterImport.Status.DONE


def test_import_recipients_snapshot_option(tmp_path, village):
    other = valid_id_number(datetime.date(1970, 1, 1))
    call_command(
        "import_recipients",
        str(
            write(
                tmp_path,
                [
                    [ID, "王秀英", "DB", "2023-01-01", "", "石鼓镇", "", "", "", "", ""],
                    [other, "李四", "DB", "2023-01-01", "", "石鼓镇", "", "", "", "", ""],
                ],
            )
        ),
    )
    call_command(
        "import_recipients",
        str(write(tmp_path, [[ID, "王秀英", "DB", "2023-01-01", "", "石鼓镇", "", "", "", "", ""]], "s.csv")),
        "--snapshot-date",
        "2025-12-01",
    )
    assert Identity.objects.get(person__id_number=other).valid_to == datetime.date(2025, 11, 30)


def test_import_recipients_fails_with_errors_and_writes_nothing(tmp_path, village, capsys):
    path = write(
        tmp_path,
        [
            [
                ID[:-1] + "0" if ID[-1] != "0" else ID[:-1] + "1",
                "王秀英",
                "DB",
                "2023-01-01",
                "",
                "石鼓镇",
                "",
                "",
                "",
                "",
                "",
            ]
        ],
    )
    with pytest.raises(CommandError, match="校验未通过"):
        call_command("import_recipients", str(path))
    assert "第 2 行「身份证号」" in capsys.readouterr().err
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/file.csv"], "找不到文件"),
        (["{path}", "--source", "统计局"], "未知的数据来源"),
        (["{path}", "--snapshot-date", "2025/12/01"], "快照日期格式不对"),
    ],
)
def test_import_recipients_bad_arguments(tmp_path, db, args, message):
    path = write(tmp_path, [])
    with pytest.raises(CommandError, match=message):
        call_command("import_recipients", *[a.format(path=path) for a in args])


def test_seed_demo_builds_a_county_with_histories(db, capsys):
    call_command("seed_demo", "--people", "400")
    out = capsys.readouterr().out
    assert Township.objects.count() >= 10
    from applications.models import PolicyVersion

    assert PolicyVersion.objects.get().preset == "maoming-2018"
    from applications.models import Case

    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"draft", "accepted", "review", "approval", "approved", "rejected", "returned", "withdrawn"} <= statuses
    from applications.models import Attachment

    assert Attachment.objects.count() == Case.objects.filter(source=Case.Source.WINDOW).count()
    # The demo's settlements and the leads the cross-check found in them, one already converted.
    from applications.models import Lead
    from settlements.models import Settlement

    assert Settlement.objects.count() > 500
    assert Lead.objects.filter(status=Lead.Status.OPEN).count() > 10
    assert Case.objects.filter(source=Case.Source.LEAD).count() == 1
    assert Lead.objects.filter(status=Lead.Status.CLOSED, close_reason="refused").count() == 1
    secondary = Case.objects.filter(source=Case.Source.SECONDARY)
    assert secondary.filter(status="approval").exists()
    assert secondary.filter(status__in=["approved", "paid"]).count() == 3
    from payouts.models import PayoutBatch, PayoutLine

    assert list(PayoutBatch.objects.order_by("number").values_list("status", flat=True)) == ["returned", "locked"]
    assert PayoutLine.objects.filter(status="failed").count() == 1
    # 回访: a plan of the paid batch with a few calls, one finding the money missing and opening its ticket.
    from followups.models import FollowupCall, FollowupPlan, Ticket

    plan = FollowupPlan.objects.get()
    assert plan.call_count == PayoutLine.objects.filter(status="paid").count()
    assert FollowupCall.objects.exclude(receipt="").count() >= 3
    assert Ticket.objects.filter(channel="followup", category="not_received", call__isnull=False).count() == 1
    assert Ticket.objects.filter(channel="12345", status="replied").count() == 1
    assert "回访计划" in out
    assert {u.role for u in User.objects.all()} == set(Role.values) - PREFECTURE_ROLES  # one county: no 市级 logins
    assert all(u.county_id for u in User.objects.all())
    for username in ("clerk", "reviewer", "approver", "finance", "supervisor", "admin"):
        assert username in out
    assert Person.objects.count() >= 400
    assert Identity.objects.filter(valid_to__isnull=False).exists()  # ended
    assert Person.objects.annotate(n=Count("identities")).filter(n__gte=2).exists()  # several identities
    assert RosterImport.objects.filter(snapshot_date__isnull=False, rows_ended__gt=0).exists()
    backdated = Identity.objects.filter(
        valid_from__lt=datetime.date(2026, 10, 1), created_by_import__file_name__contains="2026年10月"
    )
    assert backdated.exists()
    # a second run does not duplicate anything
    people = Person.objects.count()
    call_command("seed_demo", "--people", "400")
    assert Person.objects.count() == people
    assert "已存在" in capsys.readouterr().out


def test_demo_people_are_deterministic():
    towns = {"甲镇": ["一村"], "乙镇": ["二村"]}
    first = demo.make_people(random.Random(1), 50, towns)
    second = demo.make_people(random.Random(1), 50, towns)
    assert [p.id_number for p in first] == [p.id_number for p in second]


def test_seed_demo_with_two_counties_gives_each_its_own_logins_and_data(db):
    from applications.models import Case
    from payouts.models import PayoutBatch
    from recipients.models import County

    out = StringIO()
    call_command("seed_demo", "--counties", "2", "--people", "600", stdout=out)
    text = out.getvalue()
    assert "化州市：" in text and "hz_reviewer" in text and "cityadmin" in text
    gaozhou, huazhou = County.objects.order_by("code")
    assert {u.role for u in User.objects.filter(county=huazhou)} == set(Role.values) - PREFECTURE_ROLES
    assert set(User.objects.filter(county__isnull=True).values_list("role", flat=True)) == PREFECTURE_ROLES
    assert Person.objects.filter(township__county=huazhou).exists()
    assert Case.objects.filter(township__county=huazhou).exists()
    assert PayoutBatch.objects.filter(county=huazhou).exists() and PayoutBatch.objects.filter(county=gaozhou).exists()
    assert not Case.objects.visible_to(User.objects.get(username="hz_reviewer")).filter(township__county=gaozhou)
