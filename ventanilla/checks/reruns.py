"""An analyst's request to run a case's checks again.

Apart from the pipeline (services.py) so that the web processes, which only enqueue the
run, never import what the run needs (numpy, the engines).
"""

from django.db import transaction
from django.utils import timezone

from ventanilla.audit.services import audit_log
from ventanilla.cases.models import Case
from ventanilla.ops.queue import enqueue_with_commit

from .constants import RunTrigger


class ChecksRefused(Exception):
    """The checks cannot run again on this case (it is closed)."""


@transaction.atomic
def case_checks_request(*, case: Case, actor) -> None:
    """An analyst asks for the checks to run again (e.g. after installing trust roots)."""
    from ventanilla.cases.constants import FINAL_STATUSES

    from .tasks import case_checks_task

    if case.status in FINAL_STATUSES:
        raise ChecksRefused(
            f"El trámite {case.number} está cerrado ({case.get_status_display()}): "
            "sus verificaciones ya no se repiten."
        )

    audit_log(action="case.checks_requested", actor=actor, case=case, obj=case)
    # Recorded with the request, so the scheduler repeats it if the task is lost.
    Case.objects.filter(pk=case.pk).update(checks_enqueued_at=timezone.now())
    actor_id = actor.pk
    enqueue_with_commit(case_checks_task, case.pk, RunTrigger.ANALYST, actor_id)
