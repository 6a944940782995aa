"""Render Django form widgets with the design system's classes and accessible hints."""

from django import forms, template

register = template.Library()

WIDGET_CLASSES = {
    forms.Select: "usa-select",
    forms.Textarea: "usa-textarea",
    forms.ClearableFileInput: "usa-file-input",
    forms.FileInput: "usa-file-input",
    forms.CheckboxSelectMultiple: "",
    forms.RadioSelect: "",
}


@register.filter
def uswds(bound_field):
    widget = bound_field.field.widget
    css = next((c for t, c in WIDGET_CLASSES.items() if isinstance(widget, t)), "usa-input")
    if bound_field.errors and css:
        css += " usa-input--error"
    described = []
    if bound_field.help_text:
        described.append(f"{bound_field.auto_id}-hint")
    if bound_field.errors:
        described.append(f"{bound_field.auto_id}-error")
    attrs = {"class": css} if css else {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return bound_field.as_widget(attrs=attrs)
