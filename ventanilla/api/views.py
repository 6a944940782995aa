"""The JSON API (`/api/v1/`): intake and status for citizens' apps, the staff endpoints
for IESS systems. Each endpoint parses, authorises, calls one service and answers."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from ventanilla.audit.client import client_ip
from ventanilla.audit.services import audit_log
from ventanilla.cases import services
from ventanilla.cases.forms import CaseSubmissionForm
from ventanilla.cases.selectors import (
    case_for_citizen,
    case_for_staff,
    case_queue,
    case_timeline,
    status_label,
)
from ventanilla.cases.statemachine import IllegalTransition
from ventanilla.checks.reruns import ChecksRefused, case_checks_request
from ventanilla.ops import ratelimits
from ventanilla.registry.constants import CONTACT_FIELDS
from ventanilla.registry.selectors import insured_with_history
from ventanilla.staff.roles import Permission, can, is_staff_member
from ventanilla.staff.services import api_token_find, api_token_scope_allows
from ventanilla.transparency.constants import OPEN_DATA_MAX_AGE
from ventanilla.transparency.selectors import monthly_figures

from . import presenters
from .schemas import (
    ActionOut,
    CallOutcomeIn,
    CaseCreatedOut,
    CaseStatusOut,
    CorrectionIn,
    DetailOut,
    ErrorsOut,
    InviteIn,
    QueueItem,
    RejectIn,
    TransparencyMonth,
)

# What a refused token reads, whatever the reason (none, unknown, expired, revoked, owner
# disabled or without a second factor).
UNAUTHENTICATED = (
    "Falta un token de la API válido: envíe «Authorization: Bearer <token>» con un token "
    "vigente (manage.py api_token <usuario>)."
)
# The answers every staff endpoint may give besides its own: no valid token, or a role or
# token scope without the permission.
STAFF_REFUSALS = {401: DetailOut, 403: DetailOut}
# Too many requests from one client (the public endpoints' rate limits).
TOO_MANY = {429: DetailOut}
# A JSON body that cannot be parsed (400), or of the wrong shape or values (422).
BODY_REFUSALS = {400: DetailOut, 422: ErrorsOut}


class Forbidden(Exception):
    """A valid token that may not do this: the message (Spanish) says why."""

    def __init__(self, message: str = "Su rol no permite esta acción."):
        super().__init__(message)
        self.message = message


class StaffToken(HttpBearer):
    """A staff member's token, and the permission the endpoint needs: checked here, before
    the body is read, so that a role or a token scope without it gets 403 whatever it sends.
    The permission must be granted by the owner's current role AND the token's scope. A
    missing, unknown, expired or revoked token gets the same 401."""

    def __init__(self, permission: str):
        super().__init__()
        self.permission = permission

    def authenticate(self, request, token):
        api_token = api_token_find(token)
        if api_token is None or not is_staff_member(api_token.user):
            return None
        user = api_token.user
        if not can(user, self.permission):
            raise Forbidden
        if not api_token_scope_allows(api_token, self.permission):
            raise Forbidden(
                f"El alcance de este token («{api_token.scope}») no permite esta acción: pida "
                "uno con el alcance «decide» (manage.py api_token <usuario> --scope decide)."
            )
        request.user = user
        return user


api = NinjaAPI(
    title="Ventanilla IESS",
    version="1",
    description=(
        "Actualización de datos de contacto para asegurados residentes en el exterior. "
        "Mensajes de error en español."
    ),
    urls_namespace="api",
)


@api.exception_handler(IllegalTransition)
def illegal_transition(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(ChecksRefused)
def checks_refused(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(ValidationError)
def validation_error(request, exc):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"errors": errors}, status=422)


@api.exception_handler(Forbidden)
def forbidden(request, exc):
    return api.create_response(request, {"detail": exc.message}, status=403)


# What a JSON body or a parameter of the wrong shape answers: the same {"errors": {field:
# [message]}} as a refused form, in Spanish (pydantic's own messages are English).
_INVALID_VALUE = {
    "missing": "Falta este campo.",
    "json_invalid": "El cuerpo no es JSON válido.",
    "model_attributes_type": "El cuerpo debe ser un objeto JSON.",
    "dict_type": "Debe ser un objeto JSON.",
    "string_type": "Debe ser texto.",
    "list_type": "Debe ser una lista.",
    "bool_type": "Debe ser true o false.",
    "bool_parsing": "Debe ser true o false.",
    "int_type": "Debe ser un número entero.",
    "int_parsing": "Debe ser un número entero.",
    "datetime_type": "Debe ser una fecha y hora ISO 8601 con zona horaria, p. ej. "
    "2026-03-02T10:00:00-05:00.",
}
_BODY_AND_PARAMS = {"body", "payload", "query", "path", "form", "header", "cookie"}


def _invalid_field(error: dict) -> str:
    names = [str(part) for part in error.get("loc", ()) if str(part) not in _BODY_AND_PARAMS]
    return names[0] if names else "__all__"


def _invalid_message(error: dict) -> str:
    kind = str(error.get("type", ""))
    if kind in _INVALID_VALUE:
        return _INVALID_VALUE[kind]
    if kind.startswith("datetime"):
        return _INVALID_VALUE["datetime_type"]
    return "Valor no válido: revise el tipo y el formato que indica el esquema OpenAPI."


@api.exception_handler(NinjaValidationError)
def invalid_request(request, exc):
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_invalid_field(error), []).append(_invalid_message(error))
    return api.create_response(request, {"errors": errors}, status=422)


@api.exception_handler(Http404)
def not_found(request, exc):
    # Staff endpoints: a case that does not exist or is out of reach answer alike.
    return api.create_response(
        request, {"detail": "No existe un trámite con ese número."}, status=404
    )


@api.exception_handler(HttpError)
def http_error(request, exc):
    if exc.status_code == 400:
        # django-ninja's only 400: a body that is not JSON.
        detail = "El cuerpo de la petición no es JSON válido: envíe un objeto JSON en UTF-8."
    else:
        detail = str(exc)
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    # One answer for every refused token, so that it tells nothing about the key.
    response = api.create_response(request, {"detail": UNAUTHENTICATED}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


def _submission_schema() -> dict:
    """The multipart body of POST /cases, derived from the form so the two never differ."""
    properties, required = {}, []
    for name, field in CaseSubmissionForm.base_fields.items():
        prop = {"type": "string", "description": str(field.label)}
        if isinstance(field, forms.FileField):
            prop["format"] = "binary"
        elif isinstance(field, forms.DateField):
            prop["format"] = "date"
        elif isinstance(field, forms.ChoiceField):
            prop["enum"] = [value for value, _ in field.choices]
        properties[name] = prop
        if field.required:
            required.append(name)
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": properties, "required": required}
                }
            },
        }
    }


@api.post(
    "/cases",
    response={201: CaseCreatedOut, 422: ErrorsOut, **TOO_MANY},
    openapi_extra={**_submission_schema(), **ratelimits.OPENAPI_RETRY_AFTER},
    summary="Ingresar un trámite (formulario y los cinco archivos)",
)
@ratelimits.rate_limited(
    (ratelimits.SUBMISSIONS_PER_CLIENT, ratelimits.client_key),
    (ratelimits.SUBMISSIONS_PER_ID, ratelimits.posted("id_number")),
    api=True,
)
def case_create(request):
    with translation.override("es"):
        form = CaseSubmissionForm(request.POST, request.FILES)
        if not form.is_valid():
            return Status(422, {"errors": {k: list(v) for k, v in form.errors.items()}})
        case = services.case_submit(
            fields=form.case_fields(),
            uploads=form.uploads(),
            inspected=form.inspected,
            client_address=client_ip(request),
        )
    return Status(201, {"number": case.number, "status": case.status})


@api.get(
    "/transparency",
    response=list[TransparencyMonth],
    url_name="transparency",
    summary="Cifras públicas: quejas y atenciones por mes",
    description=(
        "Los mismos datos que /transparencia/ y /transparencia/datos.csv, del mes más antiguo "
        "al más reciente (meses calendario en hora de Ecuador). Hasta 2026-04, el historial "
        "publicado por el IESS; desde 2026-05, calculado de los registros de la Ventanilla; el "
        "último mes puede estar en curso. Público, sin token."
    ),
)
def transparency(request, response: HttpResponse):
    patch_cache_control(response, public=True, max_age=OPEN_DATA_MAX_AGE)
    return [row.as_open_data() for row in monthly_figures()]


@api.get(
    "/cases/{number}",
    response={200: CaseStatusOut, 404: DetailOut, **TOO_MANY},
    openapi_extra=ratelimits.OPENAPI_RETRY_AFTER,
    summary="Estado de un trámite",
)
@ratelimits.rate_limited(
    (ratelimits.LOOKUPS_PER_CLIENT, ratelimits.client_key),
    (ratelimits.LOOKUPS_PER_CASE, ratelimits.view_argument("number")),
    methods=None,
    api=True,
)
def case_status(request, number: str, id_number: str = ""):
    case = case_for_citizen(number, id_number)
    if case is None:
        # The same answer for an unknown number and a wrong identification.
        return Status(404, {"detail": "No encontramos un trámite con ese número e identificación."})
    return Status(
        200,
        {
            "number": case.number,
            "status": case.status,
            "status_label": status_label(case.status),
            "timeline": [
                {**entry, "status_label": status_label(entry["status"])}
                for entry in case_timeline(case)
            ],
        },
    )


def _staff_case(request, number: str):
    # The token's permission was checked by StaffToken.
    case = case_for_staff(request.auth, number)
    if case is None:
        raise Http404
    return case


def _action_out(case):
    case.refresh_from_db()
    return {"number": case.number, "status": case.status, "status_label": status_label(case.status)}


@api.get(
    "/staff/cases",
    auth=StaffToken(Permission.VIEW_CASES),
    response={200: list[QueueItem], **STAFF_REFUSALS},
    summary="Cola de trámites",
)
def staff_queue(request, status: str | None = None):
    cases = case_queue(status=status)
    return [presenters.queue_item(c) for c in cases[:500]]


@api.get(
    "/staff/cases/{number}",
    auth=StaffToken(Permission.VIEW_CASES),
    response={200: dict, 404: DetailOut, **STAFF_REFUSALS},
    summary="Todo lo que ve el analista",
)
def staff_case(request, number: str):
    case = _staff_case(request, number)
    audit_log(action="case.viewed", actor=request.auth, case=case, obj=case, reason="api")
    return presenters.case_detail(case, request=request)


@api.post(
    "/staff/cases/{number}/correction",
    auth=StaffToken(Permission.DECIDE),
    response={200: ActionOut, 404: DetailOut, 409: DetailOut, **BODY_REFUSALS, **STAFF_REFUSALS},
)
def staff_correction(request, number: str, payload: CorrectionIn):
    case = _staff_case(request, number)
    services.case_request_correction(case=case, actor=request.auth, **payload.dict())
    return Status(200, _action_out(case))


@api.post(
    "/staff/cases/{number}/reject",
    auth=StaffToken(Permission.DECIDE),
    response={200: ActionOut, 404: DetailOut, 409: DetailOut, **BODY_REFUSALS, **STAFF_REFUSALS},
)
def staff_reject(request, number: str, payload: RejectIn):
    case = _staff_case(request, number)
    services.case_reject(case=case, actor=request.auth, **payload.dict())
    return Status(200, _action_out(case))


@api.post(
    "/staff/cases/{number}/invite",
    auth=StaffToken(Permission.DECIDE),
    response={200: ActionOut, 404: DetailOut, 409: DetailOut, **BODY_REFUSALS, **STAFF_REFUSALS},
)
def staff_invite(request, number: str, payload: InviteIn):
    case = _staff_case(request, number)
    services.case_invite(case=case, actor=request.auth, **payload.dict())
    return Status(200, _action_out(case))


@api.post(
    "/staff/cases/{number}/accept",
    auth=StaffToken(Permission.DECIDE),
    response={200: ActionOut, 404: DetailOut, 409: DetailOut, 422: ErrorsOut, **STAFF_REFUSALS},
    summary="Aprobar los requisitos y enviar al ciudadano el enlace para agendar",
)
def staff_accept(request, number: str):
    case = _staff_case(request, number)
    services.case_accept_requirements(case=case, actor=request.auth)
    return Status(200, _action_out(case))


@api.post(
    "/staff/cases/{number}/call-outcome",
    auth=StaffToken(Permission.DECIDE),
    response={200: ActionOut, 404: DetailOut, 409: DetailOut, **BODY_REFUSALS, **STAFF_REFUSALS},
)
def staff_call_outcome(request, number: str, payload: CallOutcomeIn):
    case = _staff_case(request, number)
    services.case_record_call_outcome(case=case, actor=request.auth, **payload.dict())
    return Status(200, _action_out(case))


@api.post(
    "/staff/cases/{number}/checks",
    auth=StaffToken(Permission.DECIDE),
    response={202: ActionOut, 404: DetailOut, 409: DetailOut, **STAFF_REFUSALS},
    summary="Volver a ejecutar las verificaciones automáticas",
)
def staff_checks_rerun(request, number: str):
    case = _staff_case(request, number)
    case_checks_request(case=case, actor=request.auth)
    return Status(202, _action_out(case))


@api.get(
    "/staff/insured/{id_number}",
    auth=StaffToken(Permission.VIEW_REGISTRY),
    response={200: dict, 404: DetailOut, **STAFF_REFUSALS},
)
def staff_insured(request, id_number: str):
    person = insured_with_history(id_number=id_number)
    if person is None:
        return Status(404, {"detail": "No existe en el registro."})
    audit_log(action="registry.viewed", actor=request.auth, obj=person, reason="api")
    contact = {name: getattr(person, name) for name in ("phone", *CONTACT_FIELDS)}
    return Status(
        200,
        {
            "id_type": person.id_type,
            "id_number": person.id_number,
            "first_names": person.first_names,
            "last_names": person.last_names,
            "birth_date": person.birth_date,
            "insured_type": person.insured_type,
            "contact": contact,
            "history": [
                {
                    "field": c.field,
                    "old_value": c.old_value,
                    "new_value": c.new_value,
                    "changed_at": c.changed_at,
                    "case": c.case.number if c.case else None,
                    "changed_by": c.changed_by.get_username() if c.changed_by else None,
                }
                for c in person.changes.all()
            ],
        },
    )
