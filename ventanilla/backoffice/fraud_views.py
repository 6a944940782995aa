"""The supervisors' list of "this was not me" reports (fraud reviews): see them, close
them with a resolution. Each report also counts as a complaint."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ventanilla.audit.services import audit_log
from ventanilla.registry.constants import FraudOutcome
from ventanilla.registry.selectors import (
    ECUADOR_TZ,
    fraud_reports_in_month,
    fraud_review_for_staff,
    fraud_reviews_list,
)
from ventanilla.registry.services import fraud_review_close
from ventanilla.staff.decorators import staff_required
from ventanilla.staff.roles import Permission, can


class FraudReviewCloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Resultado"),
        choices=FraudOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Elija el resultado de la revisión.")},
    )
    resolution = forms.CharField(
        label=gettext_lazy("Resolución"),
        help_text=gettext_lazy(
            "Qué se verificó, qué se hizo y qué se comunicó al titular. Al cerrar la última "
            "revisión abierta de una persona, su registro se descongela."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": gettext_lazy(
                "Escriba la resolución: qué se verificó, qué se hizo y qué se comunicó al titular."
            )
        },
    )


def _page(request, *, forms_by_review=None, status=200):
    now = timezone.localtime(timezone.now(), ECUADOR_TZ)
    reviews = fraud_reviews_list()
    forms_by_review = forms_by_review or {}
    may_close = can(request.user, Permission.ASSIGN)
    rows = [
        {
            "review": review,
            "form": forms_by_review.get(review.pk)
            or (FraudReviewCloseForm(prefix=f"r{review.pk}") if review.is_open else None),
        }
        for review in reviews
    ]
    return render(
        request,
        "backoffice/fraud_reviews.html",
        {
            "rows": rows,
            "open_count": sum(r.is_open for r in reviews),
            "month_count": fraud_reports_in_month(now.year, now.month),
            "month": now,
            "may_close": may_close,
        },
        status=status,
    )


@staff_required(Permission.VIEW_DASHBOARD)
def fraud_reviews(request):
    audit_log(action="fraud_reviews.viewed", actor=request.user)
    return _page(request)


@require_POST
@staff_required(Permission.ASSIGN)
def fraud_review_close_view(request, review_id):
    review = fraud_review_for_staff(review_id)
    if review is None:
        raise Http404
    form = FraudReviewCloseForm(request.POST, prefix=f"r{review.pk}")
    if form.is_valid():
        try:
            fraud_review_close(review=review, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("Revisión del trámite %(number)s cerrada.") % {"number": review.case.number},
            )
            return redirect("backoffice:fraud_reviews")
    else:
        messages.error(request, _("La revisión no se cerró: revise los campos marcados."))
    return _page(request, forms_by_review={review.pk: form}, status=400)
