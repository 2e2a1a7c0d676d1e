"""Passwords may not contain the user's name."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import User


@pytest.mark.parametrize("password", ["clerk12345", "Clerk-Window-2026", "my-CLERK-pass"])
def test_a_password_containing_the_user_name_is_refused(db, password):
    user = User(username="clerk", full_name="陈丽华")
    with pytest.raises(ValidationError, match="不能包含用户名"):
        validate_password(password, user)


def test_a_password_containing_the_full_name_is_refused(db):
    with pytest.raises(ValidationError, match="不能包含姓名"):
        validate_password("陈丽华-2026-window", User(username="clerk", full_name="陈丽华"))


def test_a_good_password_passes(db):
    validate_password("Shigu-window-2026", User(username="clerk", full_name="陈丽华"))
