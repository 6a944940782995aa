import logging

from django.tasks import task

from ventanilla.cases.constants import FINAL_STATUSES
from ventanilla.cases.models import Case

from .services import case_checks_run

logger = logging.getLogger(__name__)


@task()
def case_checks_task(
    case_id: int, trigger: str = "submission", requested_by_id: int | None = None
) -> str:
    """Run the automated checks of one case (idempotent: results are replaced).

    A task that reaches a case closed meanwhile does nothing: its results stand as they
    were at the decision, and the retention purge may already have deleted its files."""
    from django.contrib.auth import get_user_model

    status = Case.objects.filter(pk=case_id).values_list("status", flat=True).first()
    if status is None or status in FINAL_STATUSES:
        logger.info("checks of case %s not run: the case is closed or gone", case_id)
        return "skipped"
    actor = get_user_model().objects.filter(pk=requested_by_id).first() if requested_by_id else None
    return case_checks_run(case_id=case_id, trigger=trigger, requested_by=actor).recommendation
