"""`check --deploy` passes with only the settings a deployment must give, and refuses a weak secret key."""

import os
import secrets
import subprocess
import sys


def run_check(**env):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **env},
    )


def test_deploy_check_passes_with_only_the_three_required_settings():
    result = run_check(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="yb.example.gov.cn",
        DATABASE_URL="postgres://medaid:secret@db.example.gov.cn:5432/medaid",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_forty_character_key_is_refused_with_what_is_accepted():
    result = run_check(DJANGO_SECRET_KEY="x" * 20 + "abcdefghij" * 2, DJANGO_ALLOWED_HOSTS="yb.example.gov.cn")
    assert result.returncode != 0
    assert "至少 50 个字符" in result.stderr


def test_https_defaults_can_be_switched_off_one_by_one():
    result = run_check(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="intranet",
        DJANGO_SSL_REDIRECT="0",
        DJANGO_HSTS_SECONDS="0",
    )
    assert "security.W008" in result.stdout + result.stderr and "security.W004" in result.stdout + result.stderr
