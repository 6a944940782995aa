from .models import CheckResult


def checks_for_case(case) -> list[CheckResult]:
    """The current result of each check on each current document."""
    return list(CheckResult.objects.filter(case=case, is_current=True).select_related("document"))
