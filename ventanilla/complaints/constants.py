from django.db import models
from django.utils.translation import gettext_lazy as _

# The institute answers a complaint within 15 working days, counted like every other term
# of the service (ventanilla/workdays, COA arts. 158-159): from the working day after it
# arrived, without weekends and holidays. The acknowledgement email gives the date.
RESPONSE_WORKING_DAYS = 15

# Longest complaint text: about two pages, enough for the story, short enough to read.
TEXT_MAX_LENGTH = 4000


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("Recibida")
    IN_PROGRESS = "in_progress", _("En atención")
    ANSWERED = "answered", _("Respondida")


OPEN_STATUSES = (ComplaintStatus.RECEIVED, ComplaintStatus.IN_PROGRESS)
