from django.tasks import task

from .services import case_checks_run


@task()
def case_checks_task(case_id: int) -> str:
    """Run the automated checks of one case (idempotent: results are replaced)."""
    return case_checks_run(case_id=case_id).status
