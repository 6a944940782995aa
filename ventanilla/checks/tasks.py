from django.tasks import task

from .services import case_checks_run


@task()
def case_checks_task(
    case_id: int, trigger: str = "submission", requested_by_id: int | None = None
) -> str:
    """Run the automated checks of one case (idempotent: results are replaced)."""
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.filter(pk=requested_by_id).first() if requested_by_id else None
    return case_checks_run(case_id=case_id, trigger=trigger, requested_by=actor).recommendation
