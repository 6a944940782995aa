"""Small helpers for the citizen's pages."""

from django import template
from django.templatetags.static import static
from django.utils.formats import number_format
from django.utils.html import format_html, json_script
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ventanilla.documents.constants import MEGABYTE

register = template.Library()

SCRIPTS = ("js/uploads.js", "js/capture.js")


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def megabytes(size) -> str:
    return _("%(size)s MB") % {"size": number_format((size or 0) / MEGABYTE, decimal_pos=1)}


@register.simple_tag
def portal_scripts():
    """The translated messages of the page's scripts, then the scripts (deferred)."""
    from ventanilla.portal.client_messages import client_messages

    parts = [json_script(client_messages(), "vt-messages")]
    parts += [format_html('<script src="{}" defer></script>', static(path)) for path in SCRIPTS]
    return mark_safe("\n".join(str(p) for p in parts))  # noqa: S308 (built with format_html)
