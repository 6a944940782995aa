"""What "check your answers" shows: each page's answers as the person will recognise
them (names of choices, not codes), the files kept, and what is still wrong."""

from django.urls import reverse
from django.utils.translation import gettext as _

from ventanilla.cases.forms import CaseSubmissionForm

from .request_steps import STEPS

_CHOICE_FIELDS = ("id_type", "birth_province", "residence_country")


def _display(form: CaseSubmissionForm, name: str, raw: str) -> str:
    if not raw:
        return ""
    if name in _CHOICE_FIELDS:
        return str(dict(form.fields[name].choices).get(raw, raw))
    return raw


def request_summary(draft, problems: dict[str, list[str]]) -> list[dict]:
    """One section per page: its rows, its kept files and its problems (from
    ``problems``, the intake form's errors at submission, or a page never completed)."""
    form = CaseSubmissionForm()
    files = {f.kind: f for f in draft.files.all()}
    sections = []
    for step in STEPS:
        rows = [
            {
                "label": form.fields[name].label,
                "value": _display(form, name, draft.answers.get(name, "")),
            }
            for name in step.answer_fields
        ]
        kept = [
            {"kind": kind, "label": form.fields[kind].label, "file": files[kind]}
            for kind in step.file_fields
            if kind in files
        ]
        section_problems = [
            f"{form.fields[name].label}: {message}"
            for name in step.fields
            for message in problems.get(name, [])
        ]
        missing_file = [
            kind
            for kind in step.file_fields
            if kind not in files and form.fields[kind].required and kind not in problems
        ]
        if step.slug not in draft.completed_steps and not section_problems:
            section_problems.append(_("Esta parte está incompleta."))
        elif missing_file and not section_problems:
            section_problems.append(_("Falta cargar un archivo."))
        sections.append(
            {
                "step": step,
                "url": reverse("portal:request_step", args=[step.slug]) + "?volver=revision",
                "rows": rows,
                "files": kept,
                "problems": section_problems,
            }
        )
    return sections
