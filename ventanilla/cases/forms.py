"""The request as the citizen fills it in: the reception form (Formulario de
recepción), the request form's Apartados 1 and 2, and the five uploads.

One form serves the web page and the JSON API, so both refuse exactly the same
input with the same Spanish messages.
"""

import copy

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ventanilla.documents.constants import DocumentKind, FileFormat
from ventanilla.documents.conversion import video_accept
from ventanilla.documents.validation import inspect_upload

from . import validators
from .constants import IdType, Province

REQUIRED = {"required": _("Este dato es obligatorio.")}
UPLOAD_HELP = _("PDF, JPG o JPEG, hasta 2 MB, con los datos legibles.")


def _required(message: str) -> dict:
    return {"required": message}


class CaseSubmissionForm(forms.Form):
    id_type = forms.ChoiceField(
        label=_("Tipo de identificación"),
        choices=IdType.choices,
        error_messages={
            **_required(_("Elija con qué documento se identifica.")),
            "invalid_choice": _("Elija cédula, pasaporte o código de extranjero."),
        },
    )
    id_number = forms.CharField(
        label=_("Número de identificación"),
        max_length=20,
        error_messages=_required(
            _("Ingrese su número de cédula, pasaporte o código de extranjero.")
        ),
    )
    first_names = forms.CharField(
        label=_("Nombres"),
        max_length=120,
        error_messages=_required(_("Ingrese sus nombres como constan en su documento.")),
    )
    last_names = forms.CharField(
        label=_("Apellidos"),
        max_length=120,
        error_messages=_required(_("Ingrese sus apellidos como constan en su documento.")),
    )
    birth_date = forms.DateField(
        label=_("Fecha de nacimiento"),
        help_text=_("AAAA-MM-DD, por ejemplo 1980-03-25"),
        error_messages={
            **_required(_("Ingrese su fecha de nacimiento.")),
            "invalid": _("Escriba la fecha como AAAA-MM-DD, por ejemplo 1980-03-25."),
        },
    )
    birth_province = forms.ChoiceField(
        label=_("Provincia de nacimiento"),
        choices=[("", "—"), *Province.choices],
        error_messages={
            **_required(_("Elija su provincia de nacimiento, o «Nacido en el exterior».")),
            "invalid_choice": _("Elija una de las 24 provincias, o «Nacido en el exterior»."),
        },
    )
    fingerprint_code = forms.CharField(
        label=_("Código dactilar (solo con cédula)"),
        max_length=12,
        required=False,
        help_text=_("Solo con cédula: reverso de la cédula, por ejemplo E3331I2222"),
    )
    id_issue_date = forms.DateField(
        label=_("Fecha de expedición de la cédula (solo con cédula)"),
        required=False,
        help_text=_("Solo con cédula: AAAA-MM-DD"),
        error_messages={"invalid": _("Escriba la fecha como AAAA-MM-DD, por ejemplo 2019-07-01.")},
    )
    residence_country = forms.ChoiceField(
        label=_("País de residencia"),
        choices=validators.country_choices,
        error_messages={
            **_required(_("Elija el país donde reside.")),
            "invalid_choice": _(
                "Elija su país de residencia de la lista (código ISO de 2 letras, por ejemplo ES)."
            ),
        },
    )
    residence_region = forms.CharField(
        label=_("Estado o provincia de residencia"),
        max_length=120,
        error_messages=_required(_("Ingrese su estado o provincia de residencia.")),
    )
    residence_city = forms.CharField(
        label=_("Ciudad de residencia"),
        max_length=120,
        error_messages=_required(_("Ingrese su ciudad de residencia.")),
    )
    postal_code = forms.CharField(
        label=_("Código postal"),
        max_length=20,
        error_messages=_required(_("Ingrese el código postal de su domicilio.")),
    )
    foreign_phone = forms.CharField(
        label=_("Teléfono de contacto en el exterior"),
        max_length=30,
        help_text=_("Con el código de país, por ejemplo +34 612 345 678"),
        error_messages=_required(_("Ingrese un teléfono del país donde reside.")),
    )
    email = forms.EmailField(
        label=_("Correo electrónico"),
        max_length=254,
        error_messages={
            **_required(_("Ingrese su correo electrónico: por él recibirá las notificaciones.")),
            "invalid": _(
                "El correo electrónico no es válido; revise que tenga la forma nombre@dominio.com."
            ),
        },
    )
    ecuador_mobile = forms.CharField(
        label=_("Teléfono celular (Ecuador)"),
        max_length=30,
        error_messages=_required(_("Ingrese un celular de Ecuador.")),
    )
    ecuador_landline = forms.CharField(
        label=_("Teléfono fijo (Ecuador, opcional)"), max_length=30, required=False
    )
    sector = forms.CharField(
        label=_("Sector"),
        max_length=120,
        error_messages=_required(_("Ingrese el sector (barrio o zona) de su domicilio.")),
    )
    message = forms.CharField(
        label=_("Mensaje"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages=_required(_("Detalle su requerimiento en el mensaje.")),
    )

    id_front = forms.FileField(
        label=_("Documento de identidad: parte frontal"),
        help_text=UPLOAD_HELP,
        error_messages=_required(_("Cargue la parte frontal de su cédula o pasaporte.")),
    )
    id_back = forms.FileField(
        label=_("Documento de identidad: reverso"),
        help_text=_("PDF, JPG o JPEG, hasta 2 MB. No hace falta si cargó un PDF con ambos lados."),
        required=False,
    )
    selfie = forms.FileField(
        label=_("Fotografía de su rostro portando su documento"),
        help_text=_("De frente, rostro completo, sin gafas ni gorra. PDF, JPG o JPEG, hasta 2 MB."),
        error_messages=_required(_("Cargue una fotografía de su rostro portando su documento.")),
    )
    request_form = forms.FileField(
        label=_("Solicitud de actualización firmada"),
        help_text=_(
            "Firmada a mano (foto o escaneo) o con firma electrónica (el PDF original). Hasta 2 MB."
        ),
        error_messages=_required(_("Cargue la solicitud de actualización firmada.")),
    )
    video = forms.FileField(
        label=_("Video de autorización"),
        help_text=_(
            "MP4, hasta 5 MB, con su rostro visible y el texto completo de la autorización."
        ),
        error_messages=_required(_("Cargue el video de autorización en formato MP4.")),
    )

    FILE_FIELDS = tuple(DocumentKind.values)

    def __init__(self, *args, convert_video: bool = False, **kwargs):
        """``convert_video``: turn a WebM/MOV recording or an MP4 over 5 MB into a
        compliant MP4 instead of refusing it (the citizen's pages do; the JSON API, whose
        clients can send the right file, does not)."""
        super().__init__(*args, **kwargs)
        self.inspected = {}
        self.convert_video = convert_video
        self.conversions = {}

    def _clean_upload(self, kind: str):
        upload = self.cleaned_data.get(kind)
        if upload:
            # The intake's inspection; the background checks decode and scan (docs/security.md).
            self.inspected[kind] = inspect_upload(kind, upload, thorough=False)
        return upload

    def clean_id_front(self):
        return self._clean_upload(DocumentKind.ID_FRONT)

    def clean_id_back(self):
        return self._clean_upload(DocumentKind.ID_BACK)

    def clean_selfie(self):
        return self._clean_upload(DocumentKind.SELFIE)

    def clean_request_form(self):
        return self._clean_upload(DocumentKind.REQUEST_FORM)

    def clean_video(self):
        upload = self.cleaned_data.get("video")
        if not upload:
            return upload
        accepted = video_accept(upload, convert=self.convert_video)
        self.inspected[DocumentKind.VIDEO] = accepted.inspected
        if accepted.converted is not None:
            self.conversions[DocumentKind.VIDEO] = accepted.conversion_facts
        return accepted.file

    def clean_first_names(self):
        return validators.person_name_clean(self.cleaned_data["first_names"])

    def clean_last_names(self):
        return validators.person_name_clean(self.cleaned_data["last_names"])

    def clean_residence_city(self):
        return validators.place_text_clean(self.cleaned_data["residence_city"])

    def clean_sector(self):
        value = self.cleaned_data.get("sector", "")
        return validators.place_text_clean(value) if value else value

    def clean_message(self):
        return validators.free_text_clean(self.cleaned_data.get("message", ""))

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if value >= today:
            raise ValidationError(_("La fecha de nacimiento no puede ser futura."))
        if value < today.replace(year=today.year - 120):
            raise ValidationError(_("Revise el año de nacimiento."))
        return value

    def clean_residence_country(self):
        return validators.country_clean(self.cleaned_data["residence_country"])

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_ecuador_mobile(self):
        return validators.phone_clean(
            self.cleaned_data["ecuador_mobile"], region="EC", kind="ec_mobile"
        )

    def clean_ecuador_landline(self):
        value = self.cleaned_data.get("ecuador_landline", "").strip()
        return validators.phone_clean(value, region="EC", kind="ec_landline") if value else ""

    def clean(self):
        data = super().clean()
        self._clean_identification(data)
        country = data.get("residence_country")
        if country:
            self._clean_field(
                data, "residence_region", lambda v: validators.region_clean(country, v)
            )
            self._clean_field(
                data, "postal_code", lambda v: validators.postal_code_clean(country, v)
            )
            self._clean_field(
                data,
                "foreign_phone",
                lambda v: validators.phone_clean(v, region=country, kind="foreign"),
            )
        self._clean_id_back(data)
        return data

    def _clean_field(self, data, name, cleaner):
        if name in data and data[name]:
            try:
                data[name] = cleaner(data[name])
            except ValidationError as exc:
                self.add_error(name, exc)
                data.pop(name, None)

    def _clean_identification(self, data):
        id_type = data.get("id_type")
        if not id_type:
            return
        self._clean_field(data, "id_number", lambda v: validators.id_number_clean(id_type, v))
        if id_type != IdType.CEDULA:
            data["fingerprint_code"] = ""
            data["id_issue_date"] = None
            return
        # The request form's Apartado 1 h and i exist only for a cédula.
        if not data.get("fingerprint_code"):
            self.add_error(
                "fingerprint_code",
                _(
                    "Con cédula, ingrese el código dactilar (reverso de la cédula, por ejemplo E3331I2222)."
                ),
            )
        else:
            self._clean_field(data, "fingerprint_code", validators.fingerprint_code_clean)
        issue_date = data.get("id_issue_date")
        if issue_date is None and "id_issue_date" not in self.errors:
            self.add_error(
                "id_issue_date", _("Con cédula, ingrese la fecha de expedición de la cédula.")
            )
        elif issue_date is not None:
            if issue_date > timezone.localdate():
                self.add_error("id_issue_date", _("La fecha de expedición no puede ser futura."))
            elif data.get("birth_date") and issue_date < data["birth_date"]:
                self.add_error(
                    "id_issue_date",
                    _("La fecha de expedición es anterior a su fecha de nacimiento."),
                )

    def _clean_id_back(self, data):
        front = self.inspected.get(DocumentKind.ID_FRONT)
        if data.get("id_back") or "id_back" in self.errors:
            return
        # One PDF may hold both sides of the document.
        both_sides = (
            front is not None
            and front.format == FileFormat.PDF
            and front.details.get("page_count", 0) >= 2
        )
        if front is not None and not both_sides:
            self.add_error(
                "id_back",
                _(
                    "Cargue el reverso de su documento, o un solo PDF con ambos lados (dos páginas)."
                ),
            )

    def case_fields(self) -> dict:
        """The cleaned values that the case stores (everything but the files)."""
        return {k: v for k, v in self.cleaned_data.items() if k not in self.FILE_FIELDS}

    def uploads(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.FILE_FIELDS if self.cleaned_data.get(k)}


def correction_form_class(items: list[str]) -> type[forms.Form]:
    """A form with only the uploads the analyst asked to correct."""
    fields = {
        name: copy.deepcopy(CaseSubmissionForm.base_fields[name])
        for name in items
        if name in CaseSubmissionForm.FILE_FIELDS
    }
    for field in fields.values():
        field.required = True
    return type("CorrectionForm", (_CorrectionBase,), fields)


class _CorrectionBase(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.inspected = {}
        self.conversions = {}

    def clean(self):
        data = super().clean()
        for name, upload in list(data.items()):
            if upload and name in CaseSubmissionForm.FILE_FIELDS:
                try:
                    if name == DocumentKind.VIDEO:
                        # A correction is answered on the web pages: a recording is converted.
                        accepted = video_accept(upload, convert=True)
                        data[name] = accepted.file
                        self.inspected[name] = accepted.inspected
                        if accepted.converted is not None:
                            self.conversions[name] = accepted.conversion_facts
                    else:
                        self.inspected[name] = inspect_upload(name, upload, thorough=False)
                except ValidationError as exc:
                    self.add_error(name, exc)
        return data

    def uploads(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v}
