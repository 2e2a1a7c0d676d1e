"""The six roles of the bureau (DOMAIN §1) and the two of a prefecture (§12.6) as permission groups.

A user holds exactly one role. The role's group carries the permissions; a township clerk is bound to one
township, the other county roles to one county; the prefecture roles see every county. Groups are kept in step
with this table after every migrate.
"""

from django.db import models


class Role(models.TextChoices):
    CLERK = "clerk", "乡镇窗口经办"
    REVIEWER = "reviewer", "县局经办审核"
    APPROVER = "approver", "县局审批"
    FINANCE = "finance", "财务"
    SUPERVISOR = "supervisor", "领导督查"
    ADMIN = "admin", "系统管理"
    # A prefecture (地级市) running one instance for its counties (DOMAIN §12.6).
    CITY_SUPERVISOR = "city_supervisor", "市级督查"
    CITY_ADMIN = "city_admin", "市级管理"


PERSON_READ = ["recipients.view_person"]
POLICY_READ = ["applications.view_policyversion"]
CASE_READ = ["applications.view_case"]
PII = ["recipients.view_full_pii"]
IMPORT = ["recipients.import_roster", "recipients.view_rosterimport"]

SETTLEMENT_READ = ["settlements.view_settlement"]
LEAD_READ = ["applications.view_lead", "applications.view_yearlyburden"]
JOB_READ = ["applications.view_job", "settlements.view_settlementimport"]
SUBSIDY_RULES_READ = ["subsidies.view_subsidyruleset"]
SUBSIDY_LIST = ["subsidies.view_subsidyentry"]
ENROLMENT = ["subsidies.import_enrolment", "subsidies.view_enrolmentimport"]
RECOVERY_READ = ["supervision.view_recovery"]
SUPERVISION_READ = RECOVERY_READ + ["supervision.view_suggestion", "supervision.view_auditsample"]
# 回访 and complaints (DOMAIN §12.3): who reads the plans, calls and tickets, who calls, who answers tickets.
FOLLOWUP_READ = ["followups.view_followupplan", "followups.view_ticket"]
FOLLOWUP_WORK = ["followups.record_followupcall", "followups.handle_ticket"]
MONITOR_READ = ["monitoring.view_listing", "monitoring.view_zbapplication"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.CLERK: PERSON_READ
    + PII
    + IMPORT
    + POLICY_READ
    + CASE_READ
    + SETTLEMENT_READ
    + LEAD_READ
    + SUBSIDY_RULES_READ
    + SUBSIDY_LIST
    + RECOVERY_READ
    + FOLLOWUP_READ
    + FOLLOWUP_WORK
    + MONITOR_READ
    + [
        "applications.receive_case",
        "applications.work_lead",
        "subsidies.work_subsidyentry",
        "reports.view_dashboard",
        "monitoring.open_zbapplication",
    ],
    Role.REVIEWER: PERSON_READ
    + PII
    + IMPORT
    + POLICY_READ
    + CASE_READ
    + SETTLEMENT_READ
    + LEAD_READ
    + JOB_READ
    + SUBSIDY_RULES_READ
    + SUBSIDY_LIST
    + ENROLMENT
    + SUPERVISION_READ
    + FOLLOWUP_READ
    + FOLLOWUP_WORK
    + MONITOR_READ
    + ["followups.manage_followupplan"]
    + [
        "applications.review_case",
        "settlements.import_settlements",
        "applications.run_job",
        "reports.view_dashboard",
        "supervision.manage_recovery",
        "supervision.request_writeoff",
        "supervision.draw_auditsample",
        "supervision.check_auditsample",
    ]
    + ["monitoring.run_monitoring", "monitoring.push_listing", "monitoring.change_watch"],
    Role.APPROVER: PERSON_READ
    + POLICY_READ
    + CASE_READ
    + SETTLEMENT_READ
    + LEAD_READ
    + SUBSIDY_RULES_READ
    + SUBSIDY_LIST
    + SUPERVISION_READ
    + FOLLOWUP_READ
    + MONITOR_READ
    + ["applications.approve_case", "supervision.approve_writeoff", "monitoring.decide_zbapplication"],
    Role.FINANCE: PERSON_READ
    + PII
    + CASE_READ
    + FOLLOWUP_READ
    + [
        "payouts.view_payoutbatch",
        "payouts.manage_payoutbatch",
        "payouts.review_payoutbatch",
        "payouts.view_payoutline",
        "reports.view_dashboard",
        "supervision.view_recovery",
        "supervision.record_repayment",
        "supervision.request_writeoff",
        "insurers.view_insurerstatement",
        "insurers.manage_insurerstatement",
        "insurers.review_insurerstatement",
    ],
    Role.SUPERVISOR: PERSON_READ
    + POLICY_READ
    + CASE_READ
    + SETTLEMENT_READ
    + LEAD_READ
    + JOB_READ
    + SUBSIDY_RULES_READ
    + SUBSIDY_LIST
    + SUPERVISION_READ
    + FOLLOWUP_READ
    + MONITOR_READ
    + [
        "recipients.view_rosterimport",
        "subsidies.view_enrolmentimport",
        "audit.view_auditevent",
        "payouts.view_payoutbatch",
        "payouts.view_payoutline",
        "reports.view_dashboard",
        "insurers.view_insurerstatement",
    ],
    Role.ADMIN: POLICY_READ
    + [
        "applications.add_policyversion",
        "applications.change_policyversion",
        "applications.activate_policyversion",
        "applications.view_regionincome",
        "applications.add_regionincome",
        "applications.change_regionincome",
        "applications.view_calendaroverride",
        "applications.add_calendaroverride",
        "applications.change_calendaroverride",
        "applications.delete_calendaroverride",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "recipients.view_county",
        "recipients.add_county",
        "recipients.change_county",
        "recipients.view_township",
        "recipients.add_township",
        "recipients.change_township",
        "recipients.view_village",
        "recipients.add_village",
        "recipients.change_village",
        "recipients.delete_village",
        "recipients.view_rosterimport",
        "audit.view_auditevent",
        "applications.view_job",
        "applications.run_job",
        "settlements.view_settlementimport",
        "settlements.import_settlements",
        "imports.view_columnprofile",
        "imports.add_columnprofile",
        "imports.change_columnprofile",
        "imports.delete_columnprofile",
        "settlements.view_medicalcategory",
        "settlements.add_medicalcategory",
        "settlements.change_medicalcategory",
        "settlements.delete_medicalcategory",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "django_celery_beat.view_crontabschedule",
        "django_celery_beat.change_crontabschedule",
        "reports.view_fundentry",
        "reports.add_fundentry",
        "reports.change_fundentry",
        "reports.delete_fundentry",
        "followups.view_followuppolicy",
        "followups.add_followuppolicy",
        "followups.change_followuppolicy",
        "followups.view_tickettimelimit",
        "followups.add_tickettimelimit",
        "followups.change_tickettimelimit",
        "followups.delete_tickettimelimit",
        "reports.view_dashboard",
        "subsidies.view_subsidyruleset",
        "subsidies.add_subsidyruleset",
        "subsidies.change_subsidyruleset",
        "subsidies.activate_subsidyruleset",
        *ENROLMENT,
        "payouts.override_funds",
        "monitoring.view_threshold",
        "monitoring.add_threshold",
        "monitoring.change_threshold",
        "monitoring.delete_threshold",
        "reports.view_fundoutlay",
        "insurers.view_insurerterms",
        "insurers.change_insurerterms",
        "insurers.view_insurerstatement",
    ],
}

ROLE_PERMISSIONS[Role.CITY_SUPERVISOR] = list(ROLE_PERMISSIONS[Role.SUPERVISOR])
ROLE_PERMISSIONS[Role.CITY_ADMIN] = [*ROLE_PERMISSIONS[Role.ADMIN], "recipients.delete_township"]

# Roles whose work is bound to one township.
TOWNSHIP_ROLES = {Role.CLERK}
# Roles that see every county of the instance; every other role sees one county.
PREFECTURE_ROLES = {Role.CITY_SUPERVISOR, Role.CITY_ADMIN}
# Roles that use the Django admin for configuration.
STAFF_ROLES = {Role.ADMIN, Role.CITY_ADMIN}


def sync_role_groups(sender, using="default", **kwargs):
    """Create one group per role and give it exactly the permissions in ROLE_PERMISSIONS."""
    # Imported here: accounts.models imports this module while the app registry is still loading.
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    # Permissions of apps migrated after this one do not exist yet at this point.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    for role in Role:
        group, _ = Group.objects.using(using).get_or_create(name=role.label)
        wanted = []
        for dotted in ROLE_PERMISSIONS[role]:
            app_label, codename = dotted.split(".")
            wanted.append(Permission.objects.using(using).get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
