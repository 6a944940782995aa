"""The analyst's checklist and note forms; the services validate again."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .constants import (
    NOTE_MAX_LENGTH,
    REASON_MAX_LENGTH,
    CallResult,
    QuestionAnswer,
    ReviewRule,
    RuleAnswer,
)


class ChecklistForm(forms.Form):
    """One "cumple / no cumple / no aplica" choice and one reason per rule of the seed."""

    def __init__(self, *args, rows: list[dict] | None = None, **kwargs):
        initial = kwargs.pop("initial", None) or {}
        for row in rows or []:
            initial[f"{row['rule']}-answer"] = row["answer"]
            initial[f"{row['rule']}-reason"] = row["reason"]
        super().__init__(*args, initial=initial, **kwargs)
        for rule, label in ReviewRule.choices:
            self.fields[f"{rule}-answer"] = forms.ChoiceField(
                label=label,
                choices=RuleAnswer.choices,
                required=False,
                widget=forms.RadioSelect,
            )
            self.fields[f"{rule}-reason"] = forms.CharField(
                label=_("Motivo (obligatorio si no cumple)"),
                required=False,
                max_length=REASON_MAX_LENGTH,
            )

    def answers(self) -> dict:
        """{rule: {"answer", "reason"}} as the service takes them."""
        return {
            rule: {
                "answer": self.cleaned_data.get(f"{rule}-answer") or "",
                "reason": self.cleaned_data.get(f"{rule}-reason") or "",
            }
            for rule in ReviewRule.values
        }

    def rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        """(rule, its choice, its reason) per rule, for the template."""
        return [
            (rule, self[f"{rule}-answer"], self[f"{rule}-reason"]) for rule in ReviewRule.values
        ]

    def add_service_errors(self, errors: dict) -> None:
        """The service's errors (keyed by rule) shown beside each rule's reason."""
        for rule, messages in errors.items():
            field = f"{rule}-reason" if rule in ReviewRule.values else None
            for message in messages:
                self.add_error(field, message)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Nota interna (solo la ve el personal del IESS)"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CallRecordForm(forms.Form):
    """The call screen: "coincide / no coincide" per identity question asked, the outcome
    and the notes (the reason, when the identity is not validated)."""

    outcome = forms.ChoiceField(
        label=_("Resultado de la videollamada"),
        choices=CallResult.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Elija el resultado de la videollamada.")},
    )
    notes = forms.CharField(
        label=_("Notas (obligatorias si no se valida: el ciudadano recibe este motivo)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, questions: list[dict] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions or []
        for row in self.questions:
            self.fields[f"q-{row['question']}"] = forms.ChoiceField(
                label=row["label"],
                choices=QuestionAnswer.choices,
                required=False,
                widget=forms.RadioSelect,
            )
        self.order_fields([f"q-{row['question']}" for row in self.questions])

    def answers(self) -> dict:
        """{question: "matches" | "does_not_match" | ""} as the service takes them."""
        return {
            row["question"]: self.cleaned_data.get(f"q-{row['question']}") or ""
            for row in self.questions
        }

    def rows(self) -> list[dict]:
        """Each question with its expected answer and its choice, for the template."""
        return [{**row, "field": self[f"q-{row['question']}"]} for row in self.questions]
