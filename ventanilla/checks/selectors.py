from .constants import CHECK_ORDER
from .models import CheckResult, CheckRun


def checks_for_case(case) -> list[CheckResult]:
    """The current result of each check, in the order an analyst reads them."""
    results = CheckResult.objects.filter(case=case, is_current=True).select_related("document")
    results = results.prefetch_related("attachments")
    order = {name: i for i, name in enumerate(CHECK_ORDER)}
    return sorted(
        results, key=lambda r: (order.get(r.name, 99), r.document.kind if r.document else "")
    )


def check_run_latest(case) -> CheckRun | None:
    """The case's last finished run (its recommendation), or None while none has finished."""
    return CheckRun.objects.filter(case=case, finished_at__isnull=False).first()
