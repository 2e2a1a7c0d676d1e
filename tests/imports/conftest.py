"""The import flow is tested through both real formats: a file that checks out and one that does not, for each."""

import dataclasses
import datetime
import random
from collections.abc import Callable

import pytest

from imports.registry import get_format, register
from imports.services import import_create
from recipients.demo import to_csv
from recipients.models import Identity
from settlements import demo as settlement_demo
from settlements.models import Settlement
from tests.factories import valid_id_number

ID = valid_id_number(datetime.date(1956, 3, 8), female=True)
DAY = datetime.date(2025, 3, 1)


@dataclasses.dataclass
class Sample:
    kind: str
    good: bytes
    bad: bytes
    options: dict
    written: Callable[[], int]  # how many rows of what the file is about exist
    audit_prefix: str
    namespace: str

    def create(self, user, content=None, enqueue=False, **kwargs):
        return import_create(
            kind=self.kind,
            user=user,
            file_name="文件.csv",
            content=self.good if content is None else content,
            options=self.options,
            enqueue=enqueue,
            **kwargs,
        )


def roster_row(id_number=ID):
    return [id_number, "王秀英", "低保", "2023-01-01", "", "石鼓镇", "石鼓村", "", "", "", ""]


def settlement_rows(visit_type=None):
    rng = random.Random(3)
    rows = [settlement_demo.settlement_row(rng, f"JS{k:04d}", ID, "王秀英", service_date=DAY) for k in range(2)]
    if visit_type is not None:
        rows[1][settlement_demo.HEADERS.index("就诊类型")] = visit_type
    return rows


def roster_sample() -> Sample:
    return Sample(
        kind="roster",
        good=to_csv([roster_row()]),
        bad=to_csv([roster_row(), roster_row("123")]),
        options={"source": "MZ"},
        written=Identity.objects.count,
        audit_prefix="roster_import",
        namespace="recipients",
    )


def settlement_sample() -> Sample:
    return Sample(
        kind="settlement",
        good=to_csv(settlement_rows(), headers=settlement_demo.HEADERS),
        bad=to_csv(settlement_rows(visit_type="急诊"), headers=settlement_demo.HEADERS),
        options={},
        written=Settlement.objects.count,
        audit_prefix="settlement_import",
        namespace="settlements",
    )


@pytest.fixture(params=["roster", "settlement"])
def sample(request, village) -> Sample:
    return roster_sample() if request.param == "roster" else settlement_sample()


@pytest.fixture
def override_format():
    """Swap hooks of a registered format for the test; the real format is registered again afterwards."""
    originals = []

    def override(kind: str, **changes):
        fmt = get_format(kind)
        originals.append(fmt)
        return register(dataclasses.replace(fmt, **changes), replace=True)

    yield override
    for fmt in reversed(originals):
        register(fmt, replace=True)
