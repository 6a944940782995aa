"""What the signed-in staff member may use, for templates: ``{% if user|can:"manage_staff" %}``.

Only shows or hides links; the views decide (staff_required), through the same
ventanilla.staff.roles.can."""

from django import template

from ventanilla.staff.roles import Permission
from ventanilla.staff.roles import can as roles_can

register = template.Library()


@register.filter
def can(user, permission: str) -> bool:
    # A misspelt permission would silently hide a link: fail loudly instead.
    if permission not in Permission.values:
        raise template.TemplateSyntaxError(
            f"Permiso desconocido «{permission}»; use uno de: {', '.join(Permission.values)}."
        )
    return roles_can(user, permission)
