from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckName(models.TextChoices):
    FILE_INTEGRITY = "file_integrity", _("Integridad de los archivos")
    IMAGE_QUALITY = "image_quality", _("Calidad de las imágenes")
    FACE_MATCH = "face_match", _("Coincidencia de rostros")
    VIDEO_STATEMENT = "video_statement", _("Declaración en el video")
    SIGNATURE = "signature", _("Firma de la solicitud")
    CONSISTENCY = "consistency", _("Coherencia de los datos")
    CROSS_CASE = "cross_case", _("Cruce con otros trámites")


# The order in which an analyst reads them.
CHECK_ORDER = [
    CheckName.FILE_INTEGRITY,
    CheckName.IMAGE_QUALITY,
    CheckName.FACE_MATCH,
    CheckName.VIDEO_STATEMENT,
    CheckName.SIGNATURE,
    CheckName.CONSISTENCY,
    CheckName.CROSS_CASE,
]


class CheckOutcome(models.TextChoices):
    PASS = "pass", _("Correcto")
    WARN = "warn", _("Revisar")
    FAIL = "fail", _("No cumple")
    ERROR = "error", _("No se pudo verificar")


class Recommendation(models.TextChoices):
    READY_FOR_CALL = "ready_for_call", _("Lista para la videollamada")
    NEEDS_CORRECTION = "needs_correction", _("Necesita corrección")
    SUSPICIOUS = "suspicious", _("Sospechosa: revise con cuidado")
    MANUAL_REVIEW = "manual_review", _("Revisión manual: una verificación no pudo completarse")


class RunTrigger(models.TextChoices):
    SUBMISSION = "submission", _("Ingreso del trámite")
    CORRECTION = "correction", _("Corrección del ciudadano")
    ANALYST = "analyst", _("Pedido por un analista")
    SCHEDULER = "scheduler", _("Reintento automático")
