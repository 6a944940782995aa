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


# What the citizen reads under each coded reason, in the correction and rejection emails
# (and what the analyst sees under each reason before sending): what is wrong and exactly
# how to put it right, with the seed's own requirements. The analyst's message follows.
REASON_GUIDANCE = {
    ReviewReason.ILLEGIBLE_IMAGE: _(
        "Los datos deben leerse con claridad. Vuelva a fotografiar o escanear el documento "
        "completo (con sus cuatro bordes), de frente, enfocado, con buena luz y sin reflejos "
        "ni sombras; de la cédula o del pasaporte, la parte frontal y el reverso. Cárguelo en "
        "PDF, JPG o JPEG de hasta 2 MB."
    ),
    ReviewReason.FACE_NOT_VISIBLE: _(
        "Tómese una fotografía nueva de frente, con el rostro completo y descubierto, sin gafas, "
        "gorra, mascarilla ni otros accesorios, sosteniendo su cédula de identidad o pasaporte. "
        "Cárguela en PDF, JPG o JPEG de hasta 2 MB. En el video de autorización su rostro "
        "también debe verse completo y sin accesorios."
    ),
    ReviewReason.AMENDED_FORM: _(
        "No se aceptan solicitudes con tachones, borrones, correctores ni datos escritos "
        "encima. Llene una solicitud nueva, sin enmendaduras, fírmela y cárguela en PDF, JPG "
        "o JPEG de hasta 2 MB."
    ),
    ReviewReason.PASTED_SIGNATURE: _(
        "No se acepta una firma recortada de otro documento y pegada en la solicitud. Imprima "
        "la solicitud, fírmela a mano con la misma firma de su cédula y cargue una fotografía "
        "o un escaneo legible; o fírmela electrónicamente con un certificado de una entidad "
        "acreditada por Arcotel y cargue el PDF original firmado. Hasta 2 MB."
    ),
    ReviewReason.SIGNATURE_INCONSISTENT: _(
        "La firma de la solicitud no coincide con la de su documento de identidad. Firme una "
        "solicitud nueva a mano con la misma firma de su cédula y cargue una fotografía o un "
        "escaneo legible, o fírmela electrónicamente y cargue el PDF original firmado."
    ),
    ReviewReason.UNSIGNED_FORM: _(
        "La solicitud debe llevar su firma: a mano (se acepta una fotografía o un escaneo "
        "legible) o electrónica, con un certificado de una entidad acreditada por Arcotel "
        "(cargue el PDF original firmado). Fírmela y cárguela en PDF, JPG o JPEG de hasta 2 MB."
    ),
    ReviewReason.ESIGNATURE_AS_PHOTO: _(
        "Una firma electrónica solo vale en el archivo original: cargue el PDF firmado tal "
        "como lo generó su programa de firma, sin imprimirlo, fotografiarlo ni hacer capturas "
        "de pantalla. Si prefiere, imprima la solicitud, fírmela a mano y cargue una "
        "fotografía o un escaneo legible."
    ),
    ReviewReason.FIELD_INCONSISTENT: _(
        "Un dato obligatorio no coincide entre el formulario de la Ventanilla Virtual, la "
        "solicitud firmada y su documento de identidad (por ejemplo el número de cédula, los "
        "nombres y apellidos, la fecha de nacimiento, el código dactilar o la fecha de "
        "expedición). Con su cédula a la vista, llene una solicitud con los datos correctos, "
        "sin enmendaduras, fírmela y cárguela."
    ),
    ReviewReason.INCOMPLETE_STATEMENT: _(
        "Grabe de nuevo el video de autorización mirando a la cámara, con el rostro visible "
        "todo el tiempo y sin accesorios, y lea en voz alta y clara el texto de autorización "
        "completo, sin omitir ninguna parte: sus nombres y apellidos, su número de cédula, la "
        "autorización al IESS, la declaración de que la información es veraz y su residencia "
        "(país, estado o provincia y ciudad). Cárguelo en MP4 de hasta 5 MB."
    ),
    ReviewReason.MISSING_REQUIREMENT: _(
        "Los requisitos son cinco: su cédula o pasaporte (parte frontal y reverso), una "
        "fotografía de su rostro portando el documento, la solicitud de actualización firmada "
        "y el video de autorización. Cargue el que falta, completo y legible: documentos en "
        "PDF, JPG o JPEG de hasta 2 MB y el video en MP4 de hasta 5 MB."
    ),
    ReviewReason.OTHER: _(
        "El mensaje del analista, a continuación, explica qué falta y cómo corregirlo."
    ),
}


def reason_guidance(code: str) -> str:
    """The text the citizen reads for a coded reason: what is wrong and how to fix it."""
    return REASON_GUIDANCE[ReviewReason(code)]


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
