"""Staff links to files for templates: ``{% staff_file_url case document %}``.

The link is signed for the signed-in staff member's session and expires
(ventanilla/backoffice/file_links.py)."""

from django import template

from ventanilla.backoffice import file_links

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_file_url(context, case, obj, still=False) -> str:
    return file_links.staff_file_url(context["request"], case, obj, still=still)
