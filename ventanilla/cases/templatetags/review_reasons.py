"""The coded review reasons as people read them: the label and the text for the citizen.

The emails and the analyst's decision forms hold reason codes (the case's
`decision_reasons`, a correction's `reasons`, a checkbox's value); these filters
turn a code into what is written about it in `cases.constants`.
"""

from django import template

from ventanilla.cases.constants import ReviewReason, reason_guidance

register = template.Library()


@register.filter
def reason_label(code: str) -> str:
    """The reason's short name, e.g. «Firma cortada y pegada»."""
    return ReviewReason(code).label


@register.filter(name="reason_guidance")
def reason_guidance_filter(code: str) -> str:
    """What is wrong and how the citizen fixes it."""
    return reason_guidance(code)
