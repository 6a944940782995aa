from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckName(models.TextChoices):
    FILE_INTEGRITY = "file_integrity", _("Integridad de los archivos")
    VIDEO_PROBE = "video_probe", _("Video: duración y pistas")


class CheckOutcome(models.TextChoices):
    PASS = "pass", _("Correcto")
    WARN = "warn", _("Revisar")
    FAIL = "fail", _("No cumple")
    ERROR = "error", _("No se pudo verificar")
