"""The queue page and its assignment actions: take the next case, assign, assign at random."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ventanilla.cases import services
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import FLAGGING_RECOMMENDATIONS
from ventanilla.cases.selectors import (
    ALL_STATUSES,
    MINE,
    UNASSIGNED,
    QueueFilters,
    at_risk_hours,
    case_queue,
    case_queue_page,
)
from ventanilla.cases.validators import country_choices, country_name
from ventanilla.checks.constants import Recommendation
from ventanilla.staff.decorators import staff_required
from ventanilla.staff.roles import Permission, can, users_with

from .forms import QueueAssignForm

PAGE_PARAM = "pagina"


def _page_number(raw) -> int:
    try:
        return max(int(raw), 1)
    except (TypeError, ValueError):
        return 1


def _queue_url(filters_query: str) -> str:
    # Only the query string travels through the form: the path is always the queue's.
    query = QueryDict(filters_query or "", mutable=True)
    query.pop(PAGE_PARAM, None)
    return reverse("backoffice:queue") + (f"?{query.urlencode()}" if query else "")


@staff_required(Permission.VIEW_CASES)
def queue(request):
    filters = QueueFilters.from_query_string(request.GET)
    now = timezone.now()
    page = case_queue_page(
        case_queue(filters=filters, user=request.user, now=now),
        page=_page_number(request.GET.get(PAGE_PARAM)),
        now=now,
    )
    for row in page.rows:
        case = row["case"]
        row["country"] = country_name(case.residence_country)
        row["recommendation"] = (
            Recommendation(case.checks_recommendation).label
            if case.checks_recommendation in FLAGGING_RECOMMENDATIONS
            else ""
        )
    others = request.GET.copy()
    others.pop(PAGE_PARAM, None)
    base = others.urlencode()
    context = {
        "page": page,
        "rows": page.rows,
        "filters": filters,
        "statuses": CaseStatus.choices,
        "countries": country_choices()[1:],
        "analysts": list(users_with(Permission.TAKE_CASES)),
        "unassigned": UNASSIGNED,
        "all_statuses": ALL_STATUSES,
        "mine": MINE,
        "at_risk_hours": at_risk_hours(),
        "filters_query": base,
        "previous_url": f"?{urlencode({**others.dict(), PAGE_PARAM: page.number - 1})}",
        "next_url": f"?{urlencode({**others.dict(), PAGE_PARAM: page.number + 1})}",
        "may_assign": can(request.user, Permission.ASSIGN),
        "may_take": can(request.user, Permission.TAKE_CASES),
    }
    return render(request, "backoffice/queue.html", context)


@require_POST
@staff_required(Permission.TAKE_CASES)
def take_next(request):
    """ "Tomar el siguiente": the analyst gets the unassigned case with the nearest deadline."""
    case = services.case_take_next(actor=request.user)
    if case is None:
        messages.info(request, _("No quedan trámites abiertos sin asignar. Vuelva más tarde."))
        return redirect("backoffice:queue")
    messages.success(
        request, _("El trámite %(number)s ahora está a su cargo.") % {"number": case.number}
    )
    return redirect("backoffice:case", number=case.number)


@require_POST
@staff_required(Permission.ASSIGN)
def assign(request):
    """A supervisor's bulk action on the ticked cases."""
    form = QueueAssignForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(_queue_url(request.POST.get("filtros", "")))
    data = form.cleaned_data
    cases = list(data["casos"])
    try:
        if data["accion"] == QueueAssignForm.RANDOM:
            done = services.case_assign_random(actor=request.user, cases=cases or None)
        else:
            assignee = data["analista"] if data["accion"] == QueueAssignForm.ASSIGN else None
            done = services.case_assign_bulk(cases=cases, actor=request.user, assignee=assignee)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if not done:
            messages.info(
                request,
                _("Ningún trámite cambió de manos: los marcados ya estaban asignados o cerrados."),
            )
        elif data["accion"] == QueueAssignForm.UNASSIGN:
            messages.success(
                request,
                ngettext(
                    "%(count)d trámite quedó sin asignar: %(numbers)s.",
                    "%(count)d trámites quedaron sin asignar: %(numbers)s.",
                    len(done),
                )
                % {"count": len(done), "numbers": ", ".join(c.number for c in done)},
            )
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d trámite asignado: %(numbers)s.",
                    "%(count)d trámites asignados: %(numbers)s.",
                    len(done),
                )
                % {
                    "count": len(done),
                    "numbers": ", ".join(
                        f"{c.number} → {c.assigned_to.get_username() if c.assigned_to else '—'}"
                        for c in done
                    ),
                },
            )
    return redirect(_queue_url(data.get("filtros", "")))
