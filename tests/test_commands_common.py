"""What every operator command shares: its help is printed (argparse formats help texts with %: a bare % breaks it),
its common options are checked."""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command, get_commands, load_command_class


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


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["import_recipients", "import_settlements", "load_regions"])
def test_a_negative_error_count_is_refused(command, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    with pytest.raises(CommandError, match="--max-errors 不能为负数"):
        call_command(command, str(path), "--max-errors=-1")


def test_an_error_line_names_what_it_has_and_shows_control_characters():
    from lib.errors import error_line

    assert error_line({"row": 3, "column": "姓名", "value": "李\x00四", "reason": "含有控制字符"}) == (
        "第 3 行「姓名」（值：李\N{REPLACEMENT CHARACTER}四）：含有控制字符"
    )
    assert (
        error_line({"row": None, "column": "", "value": "", "reason": "文件中没有数据行"}) == "文件：文件中没有数据行"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sample_audit", "--seed", "x"], "错误：参数 --seed：取值不对：'x'（应为整数或数字）"),
        (["import_enrolment"], "错误：缺少必填参数：file, --year"),
        (["export_monitoring", "x.xlsx", "--to", "残联"], "不是可选的值：'残联'"),
        (["crosscheck", "--year", "abc"], "参数 --year：年度应为 2000–2100 之间的四位年份：abc"),
        (["followup_plan", "--nope"], "错误：参数 --batch --month --cancel 必须填写其中一个"),
    ],
)
def test_the_command_line_says_what_is_wrong_in_chinese(args, message):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr
