"""Who may do what in the back-office and the staff API: the one place that decides.

Roles are Django groups. Every staff view and endpoint asks `can(user, permission)`;
nothing else checks roles. A user may hold several roles (an administrator who is also
an analyst): the permissions add up.
"""

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import QuerySet


class Role(models.TextChoices):
    ANALYST = "analyst", "Analista"
    SUPERVISOR = "supervisor", "Supervisor"
    AUDITOR = "auditor", "Auditor"
    # Manages staff accounts, roles and the holiday calendar; decides no case unless the
    # same person is also an analyst.
    ADMINISTRATOR = "administrator", "Administrador"


class Permission(models.TextChoices):
    # Every role: the landing page and one's own account (passkeys).
    USE_BACKOFFICE = "use_backoffice", "Entrar a la gestión y administrar su propia cuenta"
    VIEW_CASES = "view_cases", "Ver la cola y los trámites"
    VIEW_DOCUMENTS = "view_documents", "Ver los archivos de un trámite"
    DECIDE = "decide", "Pedir corrección, rechazar, convocar y registrar la videollamada"
    VIEW_REGISTRY = "view_registry", "Ver el registro de asegurados"
    TAKE_CASES = "take_cases", "Tomar trámites de la cola y recibirlos asignados"
    ASSIGN = "assign", "Asignar trámites a los analistas"
    VIEW_DASHBOARD = "view_dashboard", "Ver el tablero de supervisión"
    EDIT_CALENDAR = "edit_calendar", "Editar el calendario de feriados"
    VIEW_AUDIT = "view_audit", "Consultar el registro de auditoría"
    MANAGE_STAFF = "manage_staff", "Administrar las cuentas y los roles del personal"
    # LOPDP arts. 13-17: requests of access, rectification, deletion, objection, portability.
    VIEW_DATA_REQUESTS = "view_data_requests", "Ver las solicitudes de derechos de los titulares"
    HANDLE_DATA_REQUESTS = (
        "handle_data_requests",
        "Registrar y atender solicitudes de derechos, y descargar los datos de un titular",
    )
    # Complaints filed through /quejas/: analysts and supervisors answer them, auditors read.
    VIEW_COMPLAINTS = "view_complaints", "Ver las quejas de los ciudadanos"
    HANDLE_COMPLAINTS = "handle_complaints", "Tomar y responder las quejas de los ciudadanos"


GRANTS: dict[str, frozenset[str]] = {
    # Analysts work the cases they take or are given.
    Role.ANALYST: frozenset(
        {
            Permission.USE_BACKOFFICE,
            Permission.VIEW_CASES,
            Permission.VIEW_DOCUMENTS,
            Permission.DECIDE,
            Permission.VIEW_REGISTRY,
            Permission.TAKE_CASES,
            Permission.VIEW_COMPLAINTS,
            Permission.HANDLE_COMPLAINTS,
        }
    ),
    # Supervisors can stand in for an analyst on a case, and distribute the work; they do
    # not take cases from the queue themselves (random allocation is among analysts).
    Role.SUPERVISOR: frozenset(
        {
            Permission.USE_BACKOFFICE,
            Permission.VIEW_CASES,
            Permission.VIEW_DOCUMENTS,
            Permission.DECIDE,
            Permission.VIEW_REGISTRY,
            Permission.ASSIGN,
            Permission.VIEW_DASHBOARD,
            Permission.EDIT_CALENDAR,
            Permission.VIEW_AUDIT,
            Permission.VIEW_DATA_REQUESTS,
            Permission.HANDLE_DATA_REQUESTS,
            Permission.VIEW_COMPLAINTS,
            Permission.HANDLE_COMPLAINTS,
        }
    ),
    # Auditors read everything and change nothing: they see the data-subject requests and
    # whether each was answered in time, but do not download a person's data.
    Role.AUDITOR: frozenset(
        {
            Permission.USE_BACKOFFICE,
            Permission.VIEW_CASES,
            Permission.VIEW_DOCUMENTS,
            Permission.VIEW_REGISTRY,
            Permission.VIEW_DASHBOARD,
            Permission.VIEW_AUDIT,
            Permission.VIEW_DATA_REQUESTS,
            Permission.VIEW_COMPLAINTS,
        }
    ),
    # Administrators look after accounts and the calendar, not after cases: no personal
    # data of the insured, no assignment (that is the supervisor's operational call).
    Role.ADMINISTRATOR: frozenset(
        {
            Permission.USE_BACKOFFICE,
            Permission.MANAGE_STAFF,
            Permission.EDIT_CALENDAR,
            Permission.VIEW_AUDIT,
        }
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


def roles_with(permission: str) -> list[str]:
    """The roles that grant `permission`."""
    return [role for role, granted in GRANTS.items() if permission in granted]


def users_with(permission: str) -> QuerySet:
    """Active users holding a role that grants `permission` (e.g. who may receive cases)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=roles_with(permission))
        .distinct()
        .order_by("username")
    )
