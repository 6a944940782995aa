"""The guided request: the intake form split into one question group per page.

Each page is the intake form itself (``CaseSubmissionForm``) restricted to that page's
fields, so a page refuses exactly what the whole request would refuse, with the same
Spanish messages. Files kept from an earlier visit satisfy the page's required uploads.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ventanilla.cases.forms import CaseSubmissionForm
from ventanilla.documents.constants import MAX_BYTES, DocumentKind


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    fields: tuple[str, ...]
    template: str = "portal/request/step_answers.html"

    @property
    def file_fields(self) -> tuple[str, ...]:
        return tuple(f for f in self.fields if f in CaseSubmissionForm.FILE_FIELDS)

    @property
    def answer_fields(self) -> tuple[str, ...]:
        return tuple(f for f in self.fields if f not in CaseSubmissionForm.FILE_FIELDS)


STEPS = (
    Step(
        "identificacion",
        _("Su identificación"),
        (
            "id_type",
            "id_number",
            "first_names",
            "last_names",
            "birth_date",
            "birth_province",
            "fingerprint_code",
            "id_issue_date",
        ),
    ),
    Step(
        "residencia",
        _("Dónde vive"),
        ("residence_country", "residence_region", "residence_city", "postal_code", "foreign_phone"),
    ),
    Step(
        "contacto",
        _("Cómo le contactamos"),
        ("email", "ecuador_mobile", "ecuador_landline", "sector", "message"),
    ),
    Step(
        "documento",
        _("Su documento de identidad"),
        ("id_front", "id_back"),
        "portal/request/step_document.html",
    ),
    Step(
        "fotografia",
        _("Una fotografía suya con su documento"),
        ("selfie",),
        "portal/request/step_selfie.html",
    ),
    Step(
        "solicitud",
        _("La solicitud firmada"),
        ("request_form",),
        "portal/request/step_request_form.html",
    ),
    Step(
        "video",
        _("El video de autorización"),
        ("video",),
        "portal/request/step_video.html",
    ),
)
STEPS_BY_SLUG = {step.slug: step for step in STEPS}
# The pages whose answers fill the request form and the statement.
ANSWER_STEPS = tuple(step.slug for step in STEPS if step.answer_fields)

VIDEO_HELP = _(
    "Grábelo con la cámara aquí mismo, o cargue un video MP4 de hasta 5 MB. Si su video pesa "
    "más o es de otro formato (WebM, MOV), lo convertimos a MP4 y podrá verlo antes de seguir."
)

# What the page's script checks before sending (the server checks again).
UPLOAD_FORMATS = {
    DocumentKind.VIDEO: ("mp4", "webm", "mov"),
}
DOCUMENT_FORMATS = ("jpeg", "pdf")


def upload_attrs(kind: str, convert_max_bytes: int) -> dict:
    """The data attributes of an upload field, for the page's instant checks."""
    formats = UPLOAD_FORMATS.get(kind, DOCUMENT_FORMATS)
    attrs = {"kind": kind, "max_bytes": MAX_BYTES[kind], "formats": ",".join(formats)}
    if kind == DocumentKind.VIDEO:
        attrs |= {"convert_max_bytes": convert_max_bytes, "min_seconds": 15, "max_seconds": 180}
    return attrs


class StepForm(CaseSubmissionForm):
    """The intake form limited to one page; ``stored`` are the inspections of the files
    the draft already keeps."""

    def __init__(self, *args, step: Step, stored: dict, **kwargs):
        super().__init__(*args, convert_video=True, **kwargs)
        self.fields = {name: self.fields[name] for name in step.fields}
        self.stored = stored
        for kind, inspected in stored.items():
            self.inspected.setdefault(kind, inspected)
            if kind in self.fields:
                self.fields[kind].required = False
        if DocumentKind.VIDEO in self.fields:
            self.fields[DocumentKind.VIDEO].help_text = VIDEO_HELP
        for name in step.file_fields:
            self.fields[name].widget.attrs["accept"] = (
                ".mp4,.webm,.mov,video/mp4,video/webm,video/quicktime"
                if name == DocumentKind.VIDEO
                else ".pdf,.jpg,.jpeg,application/pdf,image/jpeg"
            )

    def _clean_id_back(self, data):
        if "id_back" not in self.fields or "id_back" in self.stored:
            return
        super()._clean_id_back(data)

    def answers(self) -> dict[str, str]:
        """The page's answers as typed (kept in the draft, shown again on return)."""
        return {
            name: self.data.get(name, "") for name in self.fields if name not in self.FILE_FIELDS
        }
