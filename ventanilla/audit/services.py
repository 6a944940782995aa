"""Writing the audit trail. Callers run inside their own transaction, so the
event is saved or rolled back together with the change it describes."""

from typing import Any

from .client import RequestClient, current_client
from .models import AuditEvent

SYSTEM = "system"
CITIZEN = "citizen"


def actor_label_for(actor) -> str:
    """The label kept with an event: the staff username, or who acted without one."""
    if actor is None:
        return SYSTEM
    if isinstance(actor, str):
        return actor
    return actor.get_username()


def audit_log(
    *,
    action: str,
    actor=None,
    case=None,
    obj=None,
    old: Any = None,
    new: Any = None,
    reason: str = "",
) -> AuditEvent:
    """Record one event. `actor` is a user, None for the system, or a label such as "citizen".

    Written while serving a request, the event also gets the request's id (audit.middleware)
    and, unless the actor is the citizen, the client's address and browser; written by the
    worker or the scheduler, none. A citizen's address is personal data the trail does not
    need (LOPDP art. 10, minimisation): their events keep only the request id, and the case
    keeps a keyed pseudonym of the address (Case.client_ref) for abuse limits."""
    user = actor if actor is not None and not isinstance(actor, str) else None
    client = current_client.get()
    if client is not None and actor == CITIZEN:
        client = RequestClient(ip=None, user_agent="", request_id=client.request_id)
    return AuditEvent.objects.create(
        actor=user,
        actor_label=actor_label_for(actor),
        action=action,
        case=case,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        old_value=old,
        new_value=new,
        reason=reason,
        ip=client.ip if client else None,
        user_agent=client.user_agent if client else "",
        request_id=client.request_id if client else "",
    )
