"""The case state machine: every move outside ALLOWED_TRANSITIONS is refused and
changes nothing; every allowed move is stamped in the timeline and the audit trail."""

from collections import deque

import pytest

from ventanilla.audit.models import AuditEvent
from ventanilla.cases import statemachine
from ventanilla.cases.constants import FINAL_STATUSES, CaseStatus
from ventanilla.cases.models import Case, CaseTransition
from ventanilla.cases.statemachine import ALLOWED_TRANSITIONS, IllegalTransition
from ventanilla.testing.factories import submission_fields, submission_files, submit_request

pytestmark = pytest.mark.django_db

ALL = list(CaseStatus.values)
ILLEGAL = [(a, b) for a in ALL for b in ALL if b not in ALLOWED_TRANSITIONS[a]]
LEGAL = [(a, b) for a in ALL for b in sorted(ALLOWED_TRANSITIONS[a])]


def _path_to(target: str) -> list[str]:
    """The shortest chain of allowed moves from `submitted` to `target`."""
    queue = deque([[CaseStatus.SUBMITTED.value]])
    seen = {CaseStatus.SUBMITTED.value}
    while queue:
        path = queue.popleft()
        if path[-1] == target:
            return path[1:]
        for step in sorted(ALLOWED_TRANSITIONS[path[-1]]):
            if step not in seen:
                seen.add(step)
                queue.append([*path, step])
    raise AssertionError(f"{target} cannot be reached from submitted")


def _submitted_case() -> Case:
    """A case as the intake service registers it from a valid form."""
    fields = submission_fields()
    return submit_request(fields, submission_files(fields))


def _case_in(status: str, actor) -> Case:
    """A submitted case, moved to `status` through allowed moves only."""
    case = _submitted_case()
    for step in _path_to(status):
        statemachine.transition(case, step, actor=actor, reason="preparación de la prueba")
    case.refresh_from_db()
    assert case.status == status
    return case


def test_every_status_is_in_the_table_and_reachable():
    assert set(ALLOWED_TRANSITIONS) == set(ALL)
    for status in ALL:
        if status != CaseStatus.SUBMITTED:
            assert _path_to(status)


@pytest.mark.parametrize(
    ("from_status", "to_status"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL]
)
def test_an_illegal_move_is_refused_and_changes_nothing(analyst, from_status, to_status):
    case = _case_in(from_status, analyst)
    transitions = list(case.transitions.values_list("pk", flat=True))
    events = AuditEvent.objects.filter(case=case).count()
    changed_at = case.status_changed_at

    with pytest.raises(IllegalTransition) as refused:
        statemachine.transition(case, to_status, actor=analyst, reason="no debería pasar")

    assert refused.value.from_status == from_status
    assert refused.value.to_status == to_status
    assert case.number in str(refused.value)
    assert str(CaseStatus(to_status).label) in str(refused.value)
    assert case.status == from_status
    case.refresh_from_db()
    assert (case.status, case.status_changed_at) == (from_status, changed_at)
    assert list(case.transitions.values_list("pk", flat=True)) == transitions
    assert AuditEvent.objects.filter(case=case).count() == events


@pytest.mark.parametrize(("from_status", "to_status"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_a_legal_move_is_recorded_in_the_timeline_and_the_audit_trail(
    analyst, supervisor, from_status, to_status
):
    case = _case_in(from_status, analyst)
    before = CaseTransition.objects.filter(case=case).count()

    row = statemachine.transition(case, to_status, actor=supervisor, reason="motivo de prueba")

    case.refresh_from_db()
    assert case.status == to_status
    assert CaseTransition.objects.filter(case=case).count() == before + 1
    row = CaseTransition.objects.get(pk=row.pk)
    assert (row.from_status, row.to_status) == (from_status, to_status)
    assert row.actor == supervisor
    assert row.actor_label == supervisor.get_username()
    assert row.reason == "motivo de prueba"
    assert case.status_changed_at == row.at
    event = AuditEvent.objects.filter(case=case, action="case.transition").latest("id")
    assert event.actor == supervisor
    assert event.actor_label == supervisor.get_username()
    assert event.old_value == {"status": from_status}
    assert event.new_value == {"status": to_status}
    assert event.reason == "motivo de prueba"


def test_a_move_by_the_system_is_labelled_system():
    case = _submitted_case()
    row = statemachine.transition(case, CaseStatus.IN_REVIEW)
    assert (row.actor, row.actor_label) == (None, "system")
    event = AuditEvent.objects.get(case=case, action="case.transition")
    assert (event.actor, event.actor_label) == (None, "system")


def test_final_statuses_allow_no_move():
    finals = [s for s in ALL if not ALLOWED_TRANSITIONS[s]]
    assert set(finals) == set(FINAL_STATUSES)
    assert set(finals) == {
        "requirements_rejected", "completed", "identity_rejected", "withdrawn", "expired",
    }  # fmt: skip
