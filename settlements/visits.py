"""Visit types (就诊类型) and the cap pools they fall into: one enumeration for the settlement data, the policy
tables and the calculator."""

import datetime

from django.db import models


class VisitType(models.TextChoices):
    OUTPATIENT = "门诊", "门诊"
    CHRONIC = "门诊慢特病", "门诊慢特病"
    INPATIENT = "住院", "住院"


class Pool(models.TextChoices):
    """Cap pools: separate outpatient and inpatient pools, or one for both (national 2021 rule)."""

    OUTPATIENT = "门诊", "门诊"
    INPATIENT = "住院", "住院"
    SHARED = "门诊住院共用", "门诊住院共用"


INPATIENT = VisitType.INPATIENT.value
VISIT_TYPES = tuple(VisitType.values)


def service_date(visit_type: str, discharged_on: datetime.date | None, visit_on: datetime.date | None):
    """The date identities and policies are judged on: 出院日期 for a stay, 就诊日期 for a visit."""
    return discharged_on if visit_type == INPATIENT else visit_on


def service_date_sql(alias: str) -> str:
    """The same rule over a table with visit_type, discharged_on and visit_on columns."""
    return f"CASE WHEN {alias}.visit_type = '{INPATIENT}' THEN {alias}.discharged_on ELSE {alias}.visit_on END"
