import pytest

from tests.factories import CountyFactory, fund_county


@pytest.fixture(autouse=True)
def funded(db):
    """The county of these tests has funds for every year they run in: locking a batch is refused past the funds
    available (reports.funds), which tests/supervision/test_funds_gate.py tests at its edges."""
    return fund_county(CountyFactory())
