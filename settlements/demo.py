"""Generated settlement extracts: for the demo county, the tests and the benchmarks."""

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

from . import checks as C

HEADERS = [
    C.COL_NUMBER,
    C.COL_ID,
    C.COL_NAME,
    C.COL_HOSPITAL,
    C.COL_VISIT_TYPE,
    C.COL_ADMITTED,
    C.COL_DISCHARGED,
    C.COL_VISIT,
    C.COL_SETTLED,
    C.COL_TOTAL,
    C.COL_IN_POLICY,
    C.COL_BASIC,
    C.COL_CRITICAL,
    C.COL_OTHER,
    C.COL_ONESTOP,
    C.COL_REMOTE,
    C.COL_DIAGNOSIS,
    C.COL_MAJOR,
]

LOCAL_HOSPITALS = [
    "高州市人民医院",
    "高州市中医院",
    "高州市妇幼保健院",
    "高州市第二人民医院",
    "曹江镇卫生院",
    "石鼓镇卫生院",
]
REMOTE_HOSPITALS = ["广州医科大学附属第一医院", "中山大学附属第一医院", "湛江中心人民医院", "广西医科大学第一附属医院"]
DIAGNOSES = [("J18.9", False), ("I10", False), ("E11.9", False), ("K29.7", False), ("C34.9", True), ("N18.5", True)]
CENT = Decimal("0.01")


def _m(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def settlement_row(
    rng: random.Random,
    number: str,
    id_number: str,
    name: str,
    *,
    service_date: datetime.date,
    inpatient: bool | None = None,
    onestop_ratio: float | None = None,
    remote: bool | None = None,
) -> list[str]:
    """One plausible settlement. `onestop_ratio` is the share of E paid by one-stop assistance (0: none)."""
    if inpatient is None:
        inpatient = rng.random() < 0.3
    if remote is None:
        remote = rng.random() < 0.1
    if inpatient:
        total = _m(Decimal(rng.randrange(300000, 6000000)) / 100)
    else:
        total = _m(Decimal(rng.randrange(5000, 150000)) / 100)
    in_policy = _m(total * Decimal(rng.choice(["0.75", "0.8", "0.85", "0.9"])))
    basic = _m(in_policy * Decimal("0.55" if not remote else "0.45"))
    critical = (
        _m(max(Decimal("0"), in_policy - basic - Decimal("20000")) * Decimal("0.6")) if inpatient else Decimal("0")
    )
    self_pay = in_policy - basic - critical
    if onestop_ratio is None:
        onestop_ratio = 0 if remote else rng.choice([0.7, 0.7, 0.8, 0])
    onestop = _m(self_pay * Decimal(str(onestop_ratio)))
    diagnosis, major = rng.choice(DIAGNOSES)
    hospital = rng.choice(REMOTE_HOSPITALS if remote else LOCAL_HOSPITALS)
    if inpatient:
        admitted = service_date - datetime.timedelta(days=rng.randrange(2, 20))
        dates = [admitted.isoformat(), service_date.isoformat(), ""]
    else:
        dates = ["", "", service_date.isoformat()]
    settled = service_date + datetime.timedelta(days=rng.choice([0, 0, 0, 1, 3]))
    return [
        number,
        id_number,
        name,
        hospital,
        "住院" if inpatient else rng.choice(["门诊", "门诊", "门诊慢特病"]),
        *dates,
        settled.isoformat(),
        str(total),
        str(in_policy),
        str(basic),
        str(critical),
        "0",
        str(onestop),
        "是" if remote else "否",
        diagnosis,
        "是" if major else "否",
    ]
