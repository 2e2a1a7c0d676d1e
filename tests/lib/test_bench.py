"""lib.bench: benchmark data built inside a transaction that is always rolled back."""

import pytest

from lib.bench import rolled_back
from recipients.models import County


def test_what_the_block_writes_is_gone_afterwards(db):
    with rolled_back():
        County.objects.create(name="测试县", code="999999")
        assert County.objects.filter(code="999999").exists()
    assert not County.objects.filter(code="999999").exists()


def test_an_error_in_the_block_is_raised_and_nothing_is_kept(db):
    with pytest.raises(ZeroDivisionError), rolled_back():
        County.objects.create(name="测试县", code="999998")
        1 / 0  # noqa: B018
    assert not County.objects.filter(code="999998").exists()
