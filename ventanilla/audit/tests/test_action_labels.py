"""The auditor reads every action in Spanish: each action the code records has a label."""

import re
from pathlib import Path

from ventanilla.audit.selectors import ACTION_LABELS, action_label

SOURCE = Path(__file__).resolve().parents[2]
# action="case.viewed", and the two-way form action="a.b" if ... else "a.c"
RECORDED = re.compile(r'action=("[a-z_]+\.[a-z_]+"(?: if [^\n]+ else "[a-z_]+\.[a-z_]+")?)')


def _recorded_actions() -> set[str]:
    actions = set()
    for path in SOURCE.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for match in RECORDED.finditer(path.read_text(encoding="utf-8")):
            actions.update(re.findall(r'"([a-z_]+\.[a-z_]+)"', match[1]))
    return actions


def test_every_recorded_action_has_a_spanish_label():
    actions = _recorded_actions()
    assert {"document.viewed", "staff.deactivated", "case.deadline_moved"} <= actions
    missing = sorted(a for a in actions if a not in ACTION_LABELS)
    assert not missing, f"add these to audit.selectors.ACTION_LABELS: {missing}"
    assert action_label("staff.deactivated") == "Desactivó una cuenta del personal"
