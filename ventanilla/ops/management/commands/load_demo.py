"""Demo data for `make run`: staff users, insured persons and a few cases in different
states, all synthetic. Safe to run again: what exists is kept."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ventanilla.appointments.models import CallSlot
from ventanilla.appointments.services import slots_publish
from ventanilla.cases import services
from ventanilla.cases.models import Case
from ventanilla.checks.services import case_checks_run
from ventanilla.complaints.services import complaint_file
from ventanilla.registry.models import InsuredPerson
from ventanilla.staff.roles import Role
from ventanilla.staff.services import demo_totp_device_ensure, staff_user_ensure
from ventanilla.testing import case_media, pki
from ventanilla.testing.factories import PEOPLE, submission_fields, submit_request

DEMO_PASSWORD = "demo-ventanilla-2026"  # noqa: S105 (published demo login)
STAFF = [
    ("analista", Role.ANALYST, "Ana"),
    ("supervisor", Role.SUPERVISOR, "Sofía"),
    ("auditor", Role.AUDITOR, "Aurelio"),
    ("administrador", Role.ADMINISTRATOR, "Adela"),
]
INSURED_TYPES = ["afiliado", "jubilado", "derechohabiente", "afiliado"]


def _submit(fields: dict, **breakage) -> Case:
    """A realistic synthetic request (card, selfie, signed form, spoken video), checked."""
    case = submit_request(fields, case_media.case_files(fields, **breakage))
    case_checks_run(case_id=case.pk)
    case.refresh_from_db()
    return case


def _next_morning(days: int) -> dt.datetime:
    ecuador = ZoneInfo("America/Guayaquil")
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=ecuador)


# Published on purpose: demo users only (valid base32, 20 bytes).
DEMO_TOTP_SECRET = "IESS VENT ANIL LADE MOIE SSVE NTAN ILLA"  # noqa: S105


class Command(BaseCommand):
    help = "Load synthetic demo data (staff users, insured persons, cases in several states)."

    def handle(self, *args, **options):
        users = {
            username: staff_user_ensure(
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                first_name=name,
                email=f"{username}@iess.example",
            )
            for username, role, name in STAFF
        }
        # The back-office asks for a second factor: the demo users share a PUBLISHED
        # authenticator key, so that anyone trying `make run` can sign in.
        for user in users.values():
            demo_totp_device_ensure(user, DEMO_TOTP_SECRET)
        self.stdout.write(
            f"Segundo factor de DEMOSTRACIÓN (clave TOTP de los usuarios de demostración): "
            f"{DEMO_TOTP_SECRET}\n  agréguela a una aplicación de autenticación, o calcule el "
            f"código con: oathtool --totp -b {DEMO_TOTP_SECRET.replace(' ', '')}"
        )
        for person, insured_type in zip(PEOPLE, INSURED_TYPES, strict=True):
            InsuredPerson.objects.get_or_create(
                id_type="cedula",
                id_number=person["id_number"],
                defaults={
                    "first_names": person["first_names"],
                    "last_names": person["last_names"],
                    "birth_date": person["birth_date"],
                    "insured_type": insured_type,
                    "email": person["email"].replace("@example.org", "@correo-anterior.example"),
                    "phone": "+593" + person["ecuador_mobile"][1:],
                },
            )
        self._call_slots(users["analista"])
        if Case.objects.exists():
            self.stdout.write("Los trámites de demostración ya existen; no se crean otros.")
        else:
            # The demo's forms are signed by a throwaway CA: trust it here, and only here.
            roots = pki.write_roots(settings.SIGNATURE_TRUST_ROOTS_DIR, case_media.test_ca())
            self.stdout.write(f"Raíz de confianza de DEMOSTRACIÓN instalada en {roots[0]}")
            self.stdout.write("Creando y verificando los trámites de demostración (~1 min)...")
            self._cases(users["analista"])
            # The checks already ran here, in order; the queued copies would only repeat them.
            DBTaskResult.objects.filter(
                task_path="ventanilla.checks.tasks.case_checks_task", status="READY"
            ).delete()
        self.stdout.write(
            f"Usuarios de demostración (contraseña «{DEMO_PASSWORD}»): "
            + ", ".join(f"{u} ({r.label})" for u, r, _ in STAFF)
        )

    def _call_slots(self, analyst):
        """The analyst's video-call times for the next two weeks (09:00-12:00 Ecuador time),
        so that a citizen's booking link offers something; kept when they exist."""
        if CallSlot.objects.filter(analyst=analyst, starts_at__gt=timezone.now()).exists():
            return
        today = timezone.localdate()
        made = slots_publish(
            actor=analyst,
            analyst=analyst,
            first_day=today + dt.timedelta(days=1),
            last_day=today + dt.timedelta(days=14),
            start_time=dt.time(9, 0),
            end_time=dt.time(12, 0),
            minutes=30,
        )
        self.stdout.write(f"Horarios de videollamada de DEMOSTRACIÓN publicados: {len(made)}")

    @transaction.atomic
    def _cases(self, analyst):
        in_review = _submit(submission_fields(0))
        suspicious = _submit(submission_fields(2), selfie_person="b")
        correction = _submit(submission_fields(1), signature="handwritten", id_front_blur=6)
        services.case_request_correction(
            case=correction,
            actor=analyst,
            items=["selfie"],
            reasons=["face_not_visible"],
            message="En la fotografía no se ve su rostro completo. Tómela de frente, sin gorra.",
        )
        scheduled = _submit(submission_fields(2))
        services.case_invite(case=scheduled, actor=analyst, starts_at=_next_morning(3))
        completed = _submit(submission_fields(3))
        services.case_invite(case=completed, actor=analyst, starts_at=_next_morning(1))
        services.case_record_call_outcome(
            case=completed,
            actor=analyst,
            identity_validated=True,
            notes="Documento y respuestas coinciden con el registro.",
        )
        unknown = _submit(
            submission_fields(
                0,
                id_type="passport",
                id_number="A1234567",
                fingerprint_code="",
                id_issue_date="",
                first_names="Carlos",
                last_names="Desconocido Pérez",
                email="carlos.d@example.org",
            )
        )
        for case in (in_review, suspicious, correction, scheduled, completed, unknown):
            case.refresh_from_db()
            self.stdout.write(f"  {case.number}  {case.get_status_display()}")
        # A complaint about one of them, for the back-office list and the transparency page.
        complaint = complaint_file(
            name=f"{scheduled.first_names} {scheduled.last_names}",
            email=scheduled.email,
            text="La fecha de la videollamada me queda muy temprano por la diferencia horaria; "
            "¿pueden ofrecer horarios por la tarde de Ecuador?",
            case_number=scheduled.number,
        )
        self.stdout.write(f"  {complaint.number}  Queja (demostración)")
