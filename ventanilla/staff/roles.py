"""Who may do what in the back-office and the staff API: the one place that decides.

Roles are Django groups. Every staff view and endpoint asks `can(user, permission)`;
nothing else checks roles.
"""

from django.db import models


class Role(models.TextChoices):
    ANALYST = "analyst", "Analista"
    SUPERVISOR = "supervisor", "Supervisor"
    AUDITOR = "auditor", "Auditor"


class Permission(models.TextChoices):
    VIEW_CASES = "view_cases", "Ver la cola y los trámites"
    VIEW_DOCUMENTS = "view_documents", "Ver los archivos de un trámite"
    DECIDE = "decide", "Pedir corrección, rechazar, convocar y registrar la videollamada"
    VIEW_REGISTRY = "view_registry", "Ver el registro de asegurados"


GRANTS: dict[str, frozenset[str]] = {
    Role.ANALYST: frozenset(Permission.values),
    Role.SUPERVISOR: frozenset(Permission.values),
    # Auditors read everything and change nothing.
    Role.AUDITOR: frozenset(
        {Permission.VIEW_CASES, Permission.VIEW_DOCUMENTS, Permission.VIEW_REGISTRY}
    ),
}


def user_roles(user) -> set[str]:
    if not user or not user.is_authenticated or not user.is_active:
        return set()
    cached = getattr(user, "_ventanilla_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._ventanilla_roles = cached
    return cached


def can(user, permission: str) -> bool:
    return any(permission in GRANTS[role] for role in user_roles(user))


def is_staff_member(user) -> bool:
    return bool(user_roles(user))
