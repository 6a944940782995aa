"""The holder's "this was not me" link, sent to the previous email and phone after a
change of contact data. GET only shows what changed and a button: mail scanners and
link previews open links, so nothing happens until the person presses it (POST)."""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ventanilla.registry.masking import masked_changes
from ventanilla.registry.selectors import (
    case_contact_changes,
    change_report_link_for_token,
    change_report_link_state,
)
from ventanilla.registry.services import (
    ChangeReportUnavailable,
    change_report_refused_log,
    contact_change_report,
)

# The page for a link that cannot be used answers the same for an unknown token as for
# an expired or used one, apart from the explanation: nobody learns which tokens exist.
UNAVAILABLE_STATUS = {"unknown": 404, "expired": 410, "used": 410}


def _unavailable(request, state: str):
    return render(
        request,
        "portal/not_me_unavailable.html",
        {"state": state},
        status=UNAVAILABLE_STATUS[state],
    )


@never_cache
@require_http_methods(["GET", "POST"])
def not_me(request, token):
    link = change_report_link_for_token(token)
    if request.method == "POST":
        try:
            review = contact_change_report(token=token)
        except ChangeReportUnavailable as exc:
            change_report_refused_log(token=token, reason=exc.reason)
            return _unavailable(request, exc.reason)
        return render(
            request,
            "portal/not_me_done.html",
            {"review": review, "case": review.case, "person": review.person},
        )
    state = change_report_link_state(link)
    if state != "usable":
        return _unavailable(request, state)
    return render(
        request,
        "portal/not_me.html",
        {
            "link": link,
            "case": link.case,
            "changes": masked_changes(case_contact_changes(link.case)),
        },
    )
