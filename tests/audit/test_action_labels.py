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
