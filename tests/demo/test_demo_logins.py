"""The demo logins pass the portal's own password rules (a demo should not teach bad passwords)."""

import pytest
from django.contrib.auth.password_validation import validate_password

from accounts.models import User
from demo.management.commands.seed_demo import DEMO_USERS, DEMO_USERS_EXTRA


@pytest.mark.parametrize(
    ("username", "full_name", "password"),
    [(u, n, p) for u, n, _, _, p in DEMO_USERS] + [(u, "", p) for u, p in DEMO_USERS_EXTRA.items()],
)
def test_demo_password_passes_the_validators(db, username, full_name, password):
    validate_password(password, User(username=username, full_name=full_name))
