"""The seed's rules for the analyst, as a checklist, and how each maps to a coded reason.

The IESS procedure lists what makes requirements unacceptable ("no se aceptarán
fotografías ilegibles, formularios con enmendaduras, corte y pegado de firma,
documentos que presenten inconsistencias en la firma o en cualquier campo de
información mandatorio"), how the photo must be taken ("rostro completo, sin gafas ni
gorra o accesorios") and what the video must say ("El video debe contener todo el
diálogo predeterminado"). Each of those is one row here.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ventanilla.cases.constants import ReviewReason
from ventanilla.documents.constants import DocumentKind


class ReviewRule(models.TextChoices):
    ID_LEGIBLE = (
        "id_legible",
        _("Documento de identidad (anverso y reverso) legible, con los datos del ciudadano"),
    )
    SELFIE_FACE_VISIBLE = (
        "selfie_face_visible",
        _(
            "Fotografía de frente, rostro completo, sin gafas, gorra ni accesorios, "
            "portando el documento"
        ),
    )
    FORM_LEGIBLE = "form_legible", _("Solicitud legible")
    FORM_COMPLETE = (
        "form_complete",
        _("Solicitud con todos los datos obligatorios (cabecera, apartados 1 y 2)"),
    )
    FORM_NOT_AMENDED = "form_not_amended", _("Solicitud sin enmendaduras")
    FORM_SIGNED = "form_signed", _("Solicitud firmada (a mano o electrónicamente)")
    SIGNATURE_NOT_PASTED = "signature_not_pasted", _("La firma no está cortada y pegada")
    SIGNATURE_CONSISTENT = (
        "signature_consistent",
        _("La firma es consistente con la del documento de identidad"),
    )
    ESIGNATURE_ORIGINAL = (
        "esignature_original",
        _("Firma electrónica: archivo original o escaneado que conserva la firma (no fotografía)"),
    )
    FIELDS_CONSISTENT = (
        "fields_consistent",
        _("Los datos declarados coinciden con los documentos en todos los campos obligatorios"),
    )
    VIDEO_FACE_VISIBLE = (
        "video_face_visible",
        _("En el video se ve el rostro, sin gorra, gafas, mascarilla ni otros accesorios"),
    )
    VIDEO_STATEMENT_COMPLETE = (
        "video_statement_complete",
        _("El video contiene todo el diálogo de autorización, con los datos del asegurado"),
    )


class RuleAnswer(models.TextChoices):
    COMPLIES = "complies", _("Cumple")
    FAILS = "fails", _("No cumple")
    NOT_APPLICABLE = "not_applicable", _("No aplica")


# The coded reason a rule marked "no cumple" gives to a correction or a rejection.
RULE_REASONS: dict[str, str] = {
    ReviewRule.ID_LEGIBLE: ReviewReason.ILLEGIBLE_IMAGE,
    ReviewRule.SELFIE_FACE_VISIBLE: ReviewReason.FACE_NOT_VISIBLE,
    ReviewRule.FORM_LEGIBLE: ReviewReason.ILLEGIBLE_IMAGE,
    ReviewRule.FORM_COMPLETE: ReviewReason.MISSING_REQUIREMENT,
    ReviewRule.FORM_NOT_AMENDED: ReviewReason.AMENDED_FORM,
    ReviewRule.FORM_SIGNED: ReviewReason.UNSIGNED_FORM,
    ReviewRule.SIGNATURE_NOT_PASTED: ReviewReason.PASTED_SIGNATURE,
    ReviewRule.SIGNATURE_CONSISTENT: ReviewReason.SIGNATURE_INCONSISTENT,
    ReviewRule.ESIGNATURE_ORIGINAL: ReviewReason.ESIGNATURE_AS_PHOTO,
    ReviewRule.FIELDS_CONSISTENT: ReviewReason.FIELD_INCONSISTENT,
    ReviewRule.VIDEO_FACE_VISIBLE: ReviewReason.FACE_NOT_VISIBLE,
    ReviewRule.VIDEO_STATEMENT_COMPLETE: ReviewReason.INCOMPLETE_STATEMENT,
}

# The files a citizen uploads again when a rule is not met.
RULE_DOCUMENTS: dict[str, tuple[str, ...]] = {
    ReviewRule.ID_LEGIBLE: (DocumentKind.ID_FRONT, DocumentKind.ID_BACK),
    ReviewRule.SELFIE_FACE_VISIBLE: (DocumentKind.SELFIE,),
    ReviewRule.FORM_LEGIBLE: (DocumentKind.REQUEST_FORM,),
    ReviewRule.FORM_COMPLETE: (DocumentKind.REQUEST_FORM,),
    ReviewRule.FORM_NOT_AMENDED: (DocumentKind.REQUEST_FORM,),
    ReviewRule.FORM_SIGNED: (DocumentKind.REQUEST_FORM,),
    ReviewRule.SIGNATURE_NOT_PASTED: (DocumentKind.REQUEST_FORM,),
    ReviewRule.SIGNATURE_CONSISTENT: (DocumentKind.REQUEST_FORM,),
    ReviewRule.ESIGNATURE_ORIGINAL: (DocumentKind.REQUEST_FORM,),
    ReviewRule.FIELDS_CONSISTENT: (DocumentKind.REQUEST_FORM,),
    ReviewRule.VIDEO_FACE_VISIBLE: (DocumentKind.VIDEO,),
    ReviewRule.VIDEO_STATEMENT_COMPLETE: (DocumentKind.VIDEO,),
}

NOTE_MAX_LENGTH = 4000
REASON_MAX_LENGTH = 500


# --- the identity video call -----------------------------------------------------------


class IdentityQuestion(models.TextChoices):
    """What the analyst asks on the call: data printed on the holder's own ID card or held
    by the registry, that a person who only saw the uploaded photos would not be sure of."""

    FINGERPRINT_CODE = "fingerprint_code", _("Código dactilar (reverso de la cédula)")
    ID_ISSUE_DATE = "id_issue_date", _("Fecha de expedición de la cédula")
    BIRTH_DATE = "birth_date", _("Fecha de nacimiento")


class QuestionAnswer(models.TextChoices):
    MATCHES = "matches", _("Coincide")
    DOES_NOT_MATCH = "does_not_match", _("No coincide")


class CallResult(models.TextChoices):
    VALIDATED = "validated", _("Identidad validada")
    NOT_VALIDATED = "not_validated", _("Identidad no validada")
    NO_SHOW = "no_show", _("El ciudadano no se presentó")
