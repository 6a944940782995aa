from django.urls import path

from . import (
    account_views,
    auth_views,
    calendar_views,
    queue_views,
    slots_views,
    staff_views,
    views,
)
from .call_views import call, call_record
from .complaint_views import (
    complaint,
    complaint_answer_view,
    complaint_assign_view,
    complaint_take_view,
    complaints,
)
from .dashboard_views import audit, audit_export, dashboard
from .figures_views import figures, figures_export
from .fraud_views import fraud_review_close_view, fraud_reviews
from .privacy_views import (
    data_request,
    data_request_answer_view,
    data_request_download,
    data_request_new,
    data_request_refuse_view,
    data_requests,
)

app_name = "backoffice"

urlpatterns = [
    path("", queue_views.queue, name="queue"),
    path("tomar/", queue_views.take_next, name="take_next"),
    path("asignar/", queue_views.assign, name="assign"),
    path("ingresar/", auth_views.LoginView.as_view(), name="login"),
    path("ingresar/codigo/", auth_views.two_factor, name="two_factor"),
    path("ingresar/activar/", auth_views.two_factor_enrol, name="two_factor_enrol"),
    path(
        "ingresar/llave/opciones/",
        auth_views.passkey_sign_in_options,
        name="passkey_sign_in_options",
    ),
    path("ingresar/llave/verificar/", auth_views.passkey_sign_in_verify, name="passkey_sign_in"),
    path("salir/", auth_views.LogoutView.as_view(), name="logout"),
    path("tramites/<str:number>/", views.case_detail, name="case"),
    path("tramites/<str:number>/correccion/", views.request_correction, name="correction"),
    path("tramites/<str:number>/rechazo/", views.reject, name="reject"),
    path("tramites/<str:number>/convocatoria/", views.invite, name="invite"),
    path("tramites/<str:number>/aprobar/", views.accept_requirements, name="accept"),
    path("tramites/<str:number>/videollamada/", call, name="call"),
    path("tramites/<str:number>/videollamada/resultado/", call_record, name="call_record"),
    path("tramites/<str:number>/archivos/<int:document_id>/", views.document, name="document"),
    path("tramites/<str:number>/verificaciones/", views.checks_rerun, name="checks_rerun"),
    path(
        "tramites/<str:number>/verificaciones/evidencias/<int:attachment_id>/",
        views.check_attachment,
        name="check_attachment",
    ),
    path("tramites/<str:number>/lista/", views.checklist_save, name="checklist"),
    path("tramites/<str:number>/notas/", views.note_add, name="note_add"),
    path(
        "tramites/<str:number>/archivos/<int:document_id>/cuadro/",
        views.video_still,
        name="video_still",
    ),
    path("asegurados/<str:id_number>/", views.insured, name="insured"),
    path("tablero/", dashboard, name="dashboard"),
    path("cifras/", figures, name="figures"),
    path("cifras/datos.csv", figures_export, name="figures_export"),
    path("fraude/", fraud_reviews, name="fraud_reviews"),
    path("fraude/<int:review_id>/cerrar/", fraud_review_close_view, name="fraud_review_close"),
    # Complaints filed through /quejas/: analysts and supervisors answer, auditors read.
    path("quejas/", complaints, name="complaints"),
    path("quejas/<str:complaint_number>/", complaint, name="complaint"),
    path("quejas/<str:complaint_number>/tomar/", complaint_take_view, name="complaint_take"),
    path("quejas/<str:complaint_number>/asignar/", complaint_assign_view, name="complaint_assign"),
    path(
        "quejas/<str:complaint_number>/respuesta/", complaint_answer_view, name="complaint_answer"
    ),
    path("auditoria/", audit, name="audit"),
    path("auditoria/exportar/", audit_export, name="audit_export"),
    # Data-subject requests (LOPDP): supervisors handle them, auditors see them.
    path("derechos/", data_requests, name="data_requests"),
    path("derechos/nueva/", data_request_new, name="data_request_new"),
    path("derechos/<int:request_id>/", data_request, name="data_request"),
    path("derechos/<int:request_id>/descargar/", data_request_download, name="data_request_export"),
    path(
        "derechos/<int:request_id>/atendida/", data_request_answer_view, name="data_request_answer"
    ),
    path(
        "derechos/<int:request_id>/rechazo/", data_request_refuse_view, name="data_request_refuse"
    ),
    # The administrators' and supervisors' pages (landing, staff accounts, calendar).
    path("inicio/", staff_views.home, name="home"),
    path("personal/", staff_views.staff_list, name="staff"),
    path("personal/nueva/", staff_views.staff_new, name="staff_new"),
    path("personal/<int:user_id>/", staff_views.staff_detail, name="staff_detail"),
    path("personal/<int:user_id>/activa/", staff_views.staff_active, name="staff_active"),
    path(
        "personal/<int:user_id>/segundo-factor/",
        staff_views.staff_second_factor,
        name="staff_second_factor",
    ),
    path(
        "personal/<int:user_id>/tokens/<int:token_id>/revocar/",
        staff_views.staff_api_token_revoke,
        name="staff_api_token_revoke",
    ),
    path(
        "personal/<int:user_id>/enlace/",
        staff_views.staff_activation_resend,
        name="staff_activation_resend",
    ),
    path("activar/<uidb64>/<token>/", staff_views.ActivationView.as_view(), name="activate"),
    # Call slots: analysts publish their own; supervisors those of any analyst.
    path("videollamadas/horarios/", slots_views.slots, name="slots"),
    path(
        "videollamadas/horarios/<int:slot_id>/retirar/",
        slots_views.slot_withdraw,
        name="slot_withdraw",
    ),
    path("calendario/", calendar_views.calendar, name="calendar"),
    path("calendario/<int:holiday_id>/", calendar_views.holiday_edit, name="holiday_edit"),
    path(
        "calendario/<int:holiday_id>/quitar/",
        calendar_views.holiday_remove,
        name="holiday_remove",
    ),
    # The person's own account: their passkeys (any verified staff member).
    path("cuenta/", account_views.account, name="account"),
    path("cuenta/llaves/opciones/", account_views.passkey_add_options, name="passkey_add_options"),
    path("cuenta/llaves/", account_views.passkey_add, name="passkey_add"),
    path(
        "cuenta/llaves/<int:device_id>/quitar/",
        account_views.passkey_delete,
        name="passkey_remove",
    ),
    path(
        "cuenta/tokens/<int:token_id>/revocar/",
        account_views.api_token_revoke_own,
        name="api_token_revoke",
    ),
]
