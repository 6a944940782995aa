"""The public complaint form at /quejas/ and its acknowledgement page. Anyone may file a
complaint, signed in or not, with or without a case number; the page never says whether
a case with the number given exists."""

import datetime as dt

from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ventanilla.complaints.constants import RESPONSE_WORKING_DAYS
from ventanilla.complaints.forms import ComplaintForm
from ventanilla.complaints.services import complaint_file
from ventanilla.ops import ratelimits
from ventanilla.workdays.selectors import ECUADOR

# The last complaint filed from this browser: its number and where the answer goes, for
# the acknowledgement page (never in the address, which logs and histories keep).
SESSION_LAST_COMPLAINT = "ventanilla_last_complaint"


@never_cache
@require_http_methods(["GET", "POST"])
def complaint(request):
    form = ComplaintForm(request.POST or None)
    status = 200
    if request.method == "POST":
        # Counted before the fields are checked, like every anonymous form; a refusal keeps
        # what the person wrote on the page instead of losing it.
        refusal = ratelimits.attempt_count(
            request, [(ratelimits.COMPLAINTS_PER_CLIENT, ratelimits.client_key(request))]
        )
        if refusal is not None:
            response = render(
                request,
                "portal/complaints/form.html",
                {
                    "form": form,
                    "refusal": ratelimits.refusal_message(refusal),
                    "working_days": RESPONSE_WORKING_DAYS,
                },
                status=429,
            )
            response["Retry-After"] = str(refusal.retry_after)
            return response
        if form.is_valid():
            filed = complaint_file(**form.cleaned_data)
            request.session[SESSION_LAST_COMPLAINT] = {
                "number": filed.number,
                "email": filed.email,
                "due_date": filed.due_at.astimezone(ECUADOR).date().isoformat(),
            }
            return redirect("portal:complaint_received")
        status = 422
    return render(
        request,
        "portal/complaints/form.html",
        {"form": form, "working_days": RESPONSE_WORKING_DAYS},
        status=status,
    )


@never_cache
def complaint_received(request):
    last = request.session.get(SESSION_LAST_COMPLAINT)
    if not last:
        return redirect("portal:complaint")
    return render(
        request,
        "portal/complaints/received.html",
        {
            "number": last["number"],
            "email": last["email"],
            "due_date": dt.date.fromisoformat(last["due_date"]),
            "working_days": RESPONSE_WORKING_DAYS,
        },
    )
