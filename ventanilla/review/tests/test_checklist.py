"""The checklist of the seed's rules: validation, versions, and the coded reasons and
files that a rule not met stands for."""

import pytest
from django.core.exceptions import ValidationError

from ventanilla.cases import services as case_services
from ventanilla.cases.constants import ReviewReason
from ventanilla.documents.constants import DocumentKind
from ventanilla.review import selectors
from ventanilla.review.constants import RULE_DOCUMENTS, RULE_REASONS, ReviewRule
from ventanilla.review.services import case_note_add, checklist_save
from ventanilla.testing.factories import submission_fields, submission_files, submit_request


@pytest.fixture
def case(db):
    fields = submission_fields()
    return case_services.case_mark_checked(
        case_id=submit_request(fields, submission_files(fields)).pk
    )


def test_every_rule_maps_to_a_coded_reason_and_to_files():
    assert set(RULE_REASONS) == set(ReviewRule.values) == set(RULE_DOCUMENTS)
    assert set(RULE_REASONS.values()) <= set(ReviewReason.values)
    assert all(set(kinds) <= set(DocumentKind.values) for kinds in RULE_DOCUMENTS.values())


def test_unknown_rules_and_answers_are_refused(case, analyst):
    with pytest.raises(ValidationError) as refused:
        checklist_save(
            case=case,
            actor=analyst,
            answers={"no_such_rule": {"answer": "complies"}, "id_legible": {"answer": "maybe"}},
        )
    assert set(refused.value.message_dict) == {"no_such_rule", "id_legible"}
    with pytest.raises(ValidationError, match="al menos una regla"):
        checklist_save(case=case, actor=analyst, answers={"id_legible": {"answer": ""}})


def test_failed_rules_give_their_reasons_files_and_a_draft_message(case, analyst):
    version = checklist_save(
        case=case,
        actor=analyst,
        answers={
            "video_statement_complete": {"answer": "fails", "reason": "No dice dónde reside"},
            "selfie_face_visible": {"answer": "fails", "reason": "Lleva mascarilla"},
            "video_face_visible": {"answer": "fails", "reason": "Lleva mascarilla"},
            "form_signed": {"answer": "complies", "reason": ""},
        },
    )
    assert list(version.answers) == [
        "selfie_face_visible",
        "form_signed",
        "video_face_visible",
        "video_statement_complete",
    ]
    assert selectors.checklist_failed_reasons(version) == [
        ReviewReason.FACE_NOT_VISIBLE,
        ReviewReason.INCOMPLETE_STATEMENT,
    ]
    assert selectors.checklist_failed_items(version) == [DocumentKind.SELFIE, DocumentKind.VIDEO]
    message = selectors.checklist_failed_message(version)
    assert "No dice dónde reside" in message and message.count("Lleva mascarilla") == 2


def test_a_change_is_a_new_version_with_what_changed(case, analyst, supervisor):
    checklist_save(case=case, actor=analyst, answers={"id_legible": {"answer": "complies"}})
    second = checklist_save(
        case=case,
        actor=supervisor,
        answers={"id_legible": {"answer": "fails", "reason": "Borrosa"}},
    )
    assert second.version == 2 and second.created_by == supervisor
    assert second.changes == [
        {"rule": "id_legible", "old": "complies", "new": "fails", "reason": "Borrosa"}
    ]
    history = selectors.case_history(case)
    checklist_rows = [e for e in history if e.kind == "checklist"]
    assert [e.title for e in checklist_rows] == ["Versión 1", "Versión 2"]
    assert "No cumple (Borrosa)" in checklist_rows[1].detail


def test_a_note_needs_text(case, analyst):
    with pytest.raises(ValidationError):
        case_note_add(case=case, actor=analyst, text="  ")
    note = case_note_add(case=case, actor=analyst, text=" Confirmar el país. ")
    assert note.text == "Confirmar el país."
    assert selectors.case_notes(case) == [note]
