"""Every audited action the code writes has a Chinese label in the audit log."""

import pathlib
import re

from audit.actions import ACTION_LABELS

ROOT = pathlib.Path(__file__).resolve().parents[2]
WRITTEN = re.compile(r'(?:audit_)?action="([a-z_]+\.[a-z_]+)"')
PREFIXED = re.compile(r'audit_prefix="([a-z_]+)"')
STEPS = ["upload", "validate", "confirm", "apply", "cancel", "fail", "retry"]


def test_every_written_action_has_a_label():
    written = set()
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {"tests", ".venv", "var"} or "migrations" in parts:
            continue
        text = path.read_text(encoding="utf-8")
        written.update(WRITTEN.findall(text))
        for prefix in PREFIXED.findall(text):
            written.update(f"{prefix}.{step}" for step in STEPS)
    assert len(written) > 40
    assert sorted(a for a in written if a not in ACTION_LABELS) == []


def test_import_steps_are_labelled_from_each_formats_noun():
    from audit.filters import AuditEventFilter

    assert ACTION_LABELS["roster_import.upload"] == "上传名册"
    assert ACTION_LABELS["settlement_import.fail"] == "结算数据导入失败"
    assert ACTION_LABELS["enrolment_import.retry"] == "重新校验参保结果"
    assert ACTION_LABELS["followup_import.confirm"] == "确认导入回访清单"
    choices = dict(AuditEventFilter().form.fields["action"].choices)
    assert choices["followup_import.apply"] == "导入回访清单"


def test_summaries_read_as_people_read_them():
    from audit.templatetags.audit_format import object_label, summary_items

    items = dict(
        summary_items(
            {
                "status": "draft",
                "year": 2026,
                "proposed_amount": "1598991.08000000",
                "closed_leads": [],
                "masked": False,
                "rows": 12345,
                "note": None,
            },
            "applications.case",
        )
    )
    assert items == {
        "状态": "草稿",
        "年度": "2026",
        "拟救助金额": "1,598,991.08",
        "关闭的线索": "—",
        "已脱敏": "否",
        "行数": "12,345",
        "note": "—",
    }
    assert object_label("accounts.user") == "用户" and object_label("nothing.here") == "nothing.here"
