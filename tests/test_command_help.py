"""Every operator command of the project prints its help (argparse formats help texts with %: a bare % breaks it)."""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import get_commands, load_command_class


def _ours(app: str) -> bool:
    """An app of this project (not of a library installed beside it)."""
    if "." in app and app.startswith("django"):
        return False
    path = Path(apps.get_app_config(app.rsplit(".", 1)[-1]).path)
    return path.is_relative_to(settings.BASE_DIR) and "site-packages" not in path.parts


OURS = {name: app for name, app in get_commands().items() if _ours(app)}


def test_the_project_has_its_commands():
    assert {"seed_demo", "import_enrolment", "followup_plan", "export_subsidy_list"} <= set(OURS)


@pytest.mark.parametrize("name", sorted(OURS))
def test_help_is_printed(name):
    parser = load_command_class(OURS[name], name).create_parser("manage.py", name)
    text = parser.format_help()
    assert name in text and "--help" in text
