"""基金监管 in the demo county, through the same services the portal uses: a 民政 correction that ends an identity
before a paid stay (its recovery waits in the reviewer's queue), recoveries in the states of their workflow
(partly returned, a write-off waiting for approval), this month's sample audit,
and the policy's 二级审批 threshold. A second reviewer, who handled none of the demo cases, does the sample."""

import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from applications.models import Case, PolicyVersion
from recipients import demo
from recipients.models import County, Identity
from supervision.models import Reason
from supervision.recoveries import recovery_create, repayment_record, writeoff_request
from supervision.sampling import sample_draw, sample_summary
from supervision.suggestions import suggest

AUDITOR = ("reviewer2", "周海燕", "County-audit-2026")
THRESHOLD = Decimal("20000")
SAMPLE_SEED = 20261201


def seed_supervision(command, county: County) -> None:
    username, full_name, password = AUDITOR
    auditor = User(username=username, full_name=full_name, role=Role.REVIEWER, county=county)
    auditor.set_password(password)
    auditor.save()
    reviewer = User.objects.get(username="reviewer")
    finance = User.objects.get(username="finance")
    paid = list(
        Case.objects.filter(status=Case.Status.PAID, township__county=county, source=Case.Source.WINDOW)
        .select_related("person")
        .order_by("number")
    )
    paid += list(
        Case.objects.filter(status=Case.Status.PAID, township__county=county)
        .exclude(source=Case.Source.WINDOW)
        .select_related("person")
        .order_by("number")
    )
    ended = _identity_ended_retroactively(command, paid, reviewer)
    others = [c for c in paid if c.pk != getattr(ended, "pk", None)]
    made = []
    if others:
        case = others[0]
        returned = recovery_create(
            case=case,
            user=reviewer,
            reason=Reason.CALCULATION,
            amount=min(case.approved_amount, Decimal("860.00")),
            note="复核发现住院天数按 12 天计算，发票为 10 天，多计床位费对应的救助",
        )
        repayment_record(
            recovery=returned,
            user=finance,
            amount=min(returned.amount, Decimal("500.00")),
            received_on=timezone.localdate() - datetime.timedelta(days=3),
            reference="农行缴款书 4409810012",
        )
        made.append(returned)
    if len(others) > 1:
        case = others[1]
        dead = recovery_create(
            case=case,
            user=reviewer,
            reason=Reason.DEATH,
            amount=case.approved_amount,
            note="申请人在救助金发放前已死亡（公安户籍注销），款项应退回",
        )
        writeoff_request(recovery=dead, user=finance, reason="本人已故，无遗产可供追偿，家属无力退还")
        made.append(dead)
    for recovery in made:
        recovery.refresh_from_db()
    command.stdout.write(f"  追回：{len(made)} 件（{'、'.join(r.get_status_display() for r in made)}）")
    PolicyVersion.objects.filter(county=county, status=PolicyVersion.Status.ACTIVE).update(
        second_approval_threshold=THRESHOLD
    )
    sample, created = sample_draw(county=county, month=timezone.localdate(), user=reviewer, seed=SAMPLE_SEED)
    command.stdout.write(f"  {sample_summary(sample, created)}")


def _identity_ended_retroactively(command, paid: list[Case], user):
    """民政's correction of a paid case's only identity, ended the day before the stay, through a roster import;
    the suggestion rules then put the case in the reviewer's queue."""
    for case in paid:
        identities = list(Identity.objects.filter(person=case.person))
        bill = case.bills.order_by("discharged_on").first()
        if len(identities) != 1 or bill is None or case.source != Case.Source.WINDOW:
            continue
        identity, day = identities[0], bill.service_date
        if identity.valid_from >= day:
            continue
        row = [
            case.person.id_number,
            case.person.name,
            identity.category,
            identity.valid_from.isoformat(),
            (day - datetime.timedelta(days=1)).isoformat(),
            case.township.name,
        ]
        content = demo.to_csv([row], headers=["身份证号", "姓名", "救助类别", "认定日期", "退出日期", "乡镇（街道）"])
        command.import_roster(user, "2026年12月民政身份更正.csv", content, "民政")
        counts = suggest(county_id=case.township.county_id, found_by="名册导入（2026年12月民政身份更正）")
        command.stdout.write(f"  {counts.summary()}")
        return case
    return None
