"""因病致贫重病患者 (ZB) identification (DOMAIN §12.4): the township opens an application for a listed person who
holds no identity, records the 入户核查, and the county decides with a reason — never whoever opened or verified
it (separation of duties, as for cases). An approved person gets a ZB identity, source 医保, valid 12 months from
the decision, entered through the registry's own service, so the next cross-check finds their settlements."""

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from lib.scans import ScanRefused
from recipients.categories import Category, Source
from recipients.models import Identity
from recipients.services import IdentityRefused, identity_grant

from .models import Listing, Watch, ZbApplication, ZbScan

S = ZbApplication.Status
VALID_MONTHS = 12


class ZbRefused(ValueError):
    """The step cannot be taken; the message is shown to the user."""


def holds_identity(id_number: str, day: datetime.date) -> bool:
    return Identity.objects.filter(person__id_number=id_number).valid_on(day).exists()


def identity_holders(id_numbers: list[str], day: datetime.date) -> set[str]:
    """Of these ID numbers, those whose person holds an identity valid on the day (one query)."""
    found = Identity.objects.filter(person__id_number__in=id_numbers).valid_on(day)
    return set(found.values_list("person__id_number", flat=True))


def _household(members) -> list[dict]:
    rows = []
    for member in members or []:
        name = str(member.get("name", "")).strip()[:50]
        if not name:
            continue
        rows.append(
            {
                "name": name,
                "relation": str(member.get("relation", "")).strip()[:20],
                "income": str(member.get("income", "") or "").strip()[:20],
            }
        )
    return rows


@transaction.atomic
def zb_open(
    *,
    listing: Listing,
    user,
    declared_income: Decimal,
    household: list[dict] | None = None,
    household_size: int = 1,
    declared_assets: str = "",
    phone: str = "",
) -> ZbApplication:
    """Open an identification from a 监测名单 line, at the township window of the person's township. The medical
    costs the list showed are kept on the application."""
    if not user.has_perm("monitoring.open_zbapplication") or not user.township_scoped:
        raise ZbRefused("因病致贫认定申请由乡镇窗口受理")
    watch = Watch.objects.get(pk=listing.watch_id)  # as it is now: a township may have been given since
    if watch.township_id != user.township_id:
        raise ZbRefused("此人不属于本乡镇；名册外人员须先由县局分派乡镇")
    today = timezone.localdate()
    if holds_identity(watch.id_number, today):
        raise ZbRefused("此人已有有效救助身份，无需因病致贫认定")
    if declared_income is None or declared_income < 0:
        raise ZbRefused("请填写家庭年收入（不能为负数）")
    members = _household(household)
    application = ZbApplication(
        listing=listing,
        watch=watch,
        id_number=watch.id_number,
        name=watch.name,
        township_id=user.township_id,
        phone=phone.strip()[:30],
        household=members,
        household_size=max(1, int(household_size or 1), len(members)),
        declared_income=declared_income,
        declared_assets=declared_assets.strip(),
        medical_rolling=listing.rolling,
        medical_year=listing.year_to_date,
        opened_by=user,
        number="",
    )
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        raise ZbRefused("此人已有正在办理的因病致贫认定申请") from None
    application.number = f"ZB{today:%Y}{application.pk:06d}"
    application.save(update_fields=["number"])
    audit_record(
        actor=user,
        action="zb.open",
        obj=application,
        after={"household_size": application.household_size, "declared_income": str(declared_income)},
    )
    return application


def _locked(application: ZbApplication, *states) -> ZbApplication:
    locked = ZbApplication.objects.select_for_update().get(pk=application.pk)
    if locked.status not in states:
        raise ZbRefused(f"申请当前状态为“{locked.get_status_display()}”，不能进行此操作")
    return locked


def _at_window(application: ZbApplication, user) -> None:
    if not user.has_perm("monitoring.open_zbapplication") or user.township_id != application.township_id:
        raise ZbRefused("只有申请所在乡镇的窗口可以办理此步骤")


@transaction.atomic
def zb_verify(*, application: ZbApplication, user, visited_on: datetime.date, staff: str, findings: str):
    """Record the 入户核查 (date, staff, findings): the application goes to the county for its decision."""
    _at_window(application, user)
    locked = _locked(application, S.OPEN)
    if visited_on is None or visited_on > timezone.localdate():
        raise ZbRefused("入户核查日期不能晚于今天")
    if visited_on < timezone.localdate(locked.opened_at):
        raise ZbRefused("入户核查日期不能早于受理日期")
    if not staff.strip() or not findings.strip():
        raise ZbRefused("请填写核查人员和核查情况")
    locked.visited_on, locked.visit_staff, locked.visit_findings = visited_on, staff.strip()[:100], findings.strip()
    locked.verified_by, locked.status = user, S.VERIFIED
    locked.save(update_fields=["visited_on", "visit_staff", "visit_findings", "verified_by", "status"])
    audit_record(
        actor=user,
        action="zb.verify",
        obj=locked,
        before={"status": S.OPEN},
        after={"status": S.VERIFIED, "visited_on": str(visited_on), "staff": locked.visit_staff},
    )
    return locked


@transaction.atomic
def zb_attach(*, application: ZbApplication, user, name: str, content: bytes) -> ZbScan:
    """Store a scan of the 入户核查 (PDF, JPEG or PNG, by content) while the application is at the township or
    waiting for the county."""
    _at_window(application, user)
    locked = _locked(application, S.OPEN, S.VERIFIED)
    try:
        scan = ZbScan(application=locked).store(name=name, content=content, user=user)
    except ScanRefused as exc:
        raise ZbRefused(str(exc)) from None
    audit_record(actor=user, action="zb.attach", obj=locked, after={"file": scan.original_name, "sha256": scan.sha256})
    return scan


@transaction.atomic
def zb_decide(
    *, application: ZbApplication, user, approve: bool, reason: str, decided_on: datetime.date | None = None
) -> ZbApplication:
    """The county's decision, with its reason. Whoever opened or verified the application cannot decide it.
    Approved: a ZB identity (source 医保) valid from the decision date for 12 months, through the registry."""
    if not user.has_perm("monitoring.decide_zbapplication"):
        raise ZbRefused("没有认定因病致贫重病患者的权限")
    locked = _locked(application, S.VERIFIED)
    if user.pk in (locked.opened_by_id, locked.verified_by_id):
        raise ZbRefused("受理或核查此申请的人员不能认定（审批分离）")
    if not reason.strip():
        raise ZbRefused("请填写认定意见")
    today = timezone.localdate()
    decided_on = decided_on or today
    if decided_on > today or (locked.visited_on and decided_on < locked.visited_on):
        raise ZbRefused("认定日期应在入户核查日期和今天之间")
    locked.decided_by, locked.decided_on, locked.decided_at = user, decided_on, timezone.now()
    locked.decision_reason = reason.strip()
    locked.status = S.APPROVED if approve else S.REJECTED
    if approve:
        try:
            identity = identity_grant(
                user=user,
                id_number=locked.id_number,
                name=locked.name,
                township=locked.township,
                category=Category.ZB,
                source=Source.YB,
                valid_from=decided_on,
                valid_to=decided_on + relativedelta(months=VALID_MONTHS) - datetime.timedelta(days=1),
                phone=locked.phone,
                reason=f"因病致贫认定 {locked.number}",
            )
        except IdentityRefused as exc:
            raise ZbRefused(str(exc)) from None
        locked.identity, locked.person = identity, identity.person
        watch = locked.watch
        watch.person, watch.township_id = identity.person, identity.person.township_id
        watch.save(update_fields=["person", "township"])
    locked.save(
        update_fields=["decided_by", "decided_on", "decided_at", "decision_reason", "status", "identity", "person"]
    )
    audit_record(
        actor=user,
        action="zb.approve" if approve else "zb.reject",
        obj=locked,
        before={"status": S.VERIFIED},
        after={"status": locked.status, "decided_on": str(decided_on)},
        comment=locked.decision_reason,
    )
    return locked
