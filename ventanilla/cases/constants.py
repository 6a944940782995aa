from django.db import models
from django.utils.translation import gettext_lazy as _


class IdType(models.TextChoices):
    CEDULA = "cedula", _("Cédula de identidad o ciudadanía")
    PASSPORT = "passport", _("Pasaporte")
    FOREIGNER_CODE = "foreigner_code", _("Código de identificación para extranjeros (IESS)")


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Recibido")
    IN_REVIEW = "in_review", _("En revisión de requisitos")
    CORRECTION_REQUESTED = "correction_requested", _("Corrección solicitada")
    REQUIREMENTS_REJECTED = "requirements_rejected", _("Rechazado por requisitos")
    CALL_PENDING = "call_pending", _("Requisitos aprobados: videollamada por agendar")
    CALL_SCHEDULED = "call_scheduled", _("Videollamada agendada")
    IDENTITY_VALIDATED = "identity_validated", _("Identidad validada")
    COMPLETED = "completed", _("Datos actualizados")
    IDENTITY_REJECTED = "identity_rejected", _("Identidad no validada")
    WITHDRAWN = "withdrawn", _("Desistido")
    EXPIRED = "expired", _("Caducado")


FINAL_STATUSES = frozenset(
    {
        CaseStatus.REQUIREMENTS_REJECTED,
        CaseStatus.COMPLETED,
        CaseStatus.IDENTITY_REJECTED,
        CaseStatus.WITHDRAWN,
        CaseStatus.EXPIRED,
    }
)
# While the case waits for the analyst's requirements review, the 3-working-day clock runs.
REVIEW_CLOCK_STATUSES = frozenset({CaseStatus.SUBMITTED, CaseStatus.IN_REVIEW})


# The institute's province codes (the first two digits of a cédula).
class Province(models.TextChoices):
    AZUAY = "01", "Azuay"
    BOLIVAR = "02", "Bolívar"
    CANAR = "03", "Cañar"
    CARCHI = "04", "Carchi"
    COTOPAXI = "05", "Cotopaxi"
    CHIMBORAZO = "06", "Chimborazo"
    EL_ORO = "07", "El Oro"
    ESMERALDAS = "08", "Esmeraldas"
    GUAYAS = "09", "Guayas"
    IMBABURA = "10", "Imbabura"
    LOJA = "11", "Loja"
    LOS_RIOS = "12", "Los Ríos"
    MANABI = "13", "Manabí"
    MORONA_SANTIAGO = "14", "Morona Santiago"
    NAPO = "15", "Napo"
    PASTAZA = "16", "Pastaza"
    PICHINCHA = "17", "Pichincha"
    TUNGURAHUA = "18", "Tungurahua"
    ZAMORA_CHINCHIPE = "19", "Zamora Chinchipe"
    GALAPAGOS = "20", "Galápagos"
    SUCUMBIOS = "21", "Sucumbíos"
    ORELLANA = "22", "Orellana"
    SANTO_DOMINGO = "23", "Santo Domingo de los Tsáchilas"
    SANTA_ELENA = "24", "Santa Elena"
    ABROAD = "abroad", _("Nacido en el exterior")


class ReviewReason(models.TextChoices):
    """Why requirements are sent back or rejected: the seed's anti-fraud rules, coded."""

    ILLEGIBLE_IMAGE = "illegible_image", _("Fotografía o documento ilegible")
    FACE_NOT_VISIBLE = (
        "face_not_visible",
        _(
            "El rostro no se ve completo o hay accesorios que impiden la identificación "
            "(gorra, gafas, mascarilla)"
        ),
    )
    AMENDED_FORM = "amended_form", _("Formulario con enmendaduras")
    PASTED_SIGNATURE = "pasted_signature", _("Firma cortada y pegada")
    SIGNATURE_INCONSISTENT = "signature_inconsistent", _("Inconsistencias en la firma")
    UNSIGNED_FORM = "unsigned_form", _("La solicitud no está firmada")
    ESIGNATURE_AS_PHOTO = (
        "esignature_as_photo",
        _(
            "Solicitud con firma electrónica presentada como fotografía (debe cargarse el archivo original)"
        ),
    )
    FIELD_INCONSISTENT = (
        "field_inconsistent",
        _("Inconsistencia en un campo de información obligatorio"),
    )
    INCOMPLETE_STATEMENT = (
        "incomplete_statement",
        _("El video no contiene todo el diálogo de autorización"),
    )
    MISSING_REQUIREMENT = "missing_requirement", _("Falta un requisito o está incompleto")
    OTHER = "other", _("Otro motivo (detallado en el mensaje)")


class CallOutcome(models.TextChoices):
    VALIDATED = "validated", _("Identidad validada")
    NOT_VALIDATED = "not_validated", _("Identidad no validada")


# What the citizen declares on the reception form and in Apartados 1 and 2.
DECLARED_FIELDS = (
    "id_type",
    "id_number",
    "first_names",
    "last_names",
    "birth_date",
    "birth_province",
    "fingerprint_code",
    "id_issue_date",
    "sector",
    "message",
    "residence_country",
    "residence_region",
    "residence_city",
    "postal_code",
    "foreign_phone",
    "email",
    "ecuador_mobile",
    "ecuador_landline",
)
