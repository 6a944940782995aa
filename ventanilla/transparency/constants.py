from django.db import models
from django.utils.translation import gettext_lazy as _

from ventanilla.cases.constants import CaseStatus


class FigureSource(models.TextChoices):
    """Where a month's figures come from."""

    # Typed by the institute and published before the Ventanilla counted on its own.
    SEED = "seed", _("Historial publicado por el IESS")
    # Counted from the Ventanilla's own records (cases, complaints, "no fui yo" reports).
    COMPUTED = "computed", _("Calculado de los registros de la Ventanilla")


# An "attention" is a case that received the institute's decision: its data were updated,
# or it was refused for its requirements or at the identity call. A case the citizen
# withdrew, or that expired for lack of an answer, ended without a decision and is not one.
ATTENTION_STATUSES = (
    CaseStatus.COMPLETED,
    CaseStatus.REQUIREMENTS_REJECTED,
    CaseStatus.IDENTITY_REJECTED,
)

# The open data (CSV, JSON) may be cached publicly for a few minutes: a figure changes at
# most when a case is decided or a complaint comes in.
OPEN_DATA_MAX_AGE = 300
