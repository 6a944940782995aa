from django.db import models
from django.utils.translation import gettext_lazy as _

# LOPDP arts. 13-16: access, rectification, deletion and objection are answered within
# 15 days. The IESS is a public body, and Ecuador's administrative code (COA arts.
# 158-159) counts a term given in days in working days, from the working day after the
# request arrived, without weekends and holidays: the same rule as the review SLA
# (ventanilla/workdays). docs/security.md, section C, says why.
RESPONSE_WORKING_DAYS = 15


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Acceso")
    RECTIFICATION = "rectification", _("Rectificación o actualización")
    DELETION = "deletion", _("Eliminación")
    OBJECTION = "objection", _("Oposición")
    PORTABILITY = "portability", _("Portabilidad")


# The kinds answered by handing over everything held about the person (the ZIP export).
EXPORT_KINDS = frozenset({RequestKind.ACCESS, RequestKind.PORTABILITY})


class RequestChannel(models.TextChoices):
    EMAIL = "email", _("Correo electrónico")
    OFFICE = "office", _("En una oficina del IESS")
    OTHER = "other", _("Otro (carta, oficio, formulario)")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Abierta")
    ANSWERED = "answered", _("Atendida")
    REFUSED = "refused", _("Rechazada")
