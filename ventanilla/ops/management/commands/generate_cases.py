"""Synthetic cases in bulk, for the queue benchmark (bench/queue_bench.py) and for trying
the back-office with a realistic volume. Only rows of `cases_case`: no files, no
documents, no transitions, no check runs, no emails; never run it on a real database.

    manage.py generate_cases --count 1000000 [--seed 7] [--open-fraction 0.03]

What the rows look like: submissions spread evenly over the last years up to now, case
numbers in submission order per year with their check character (continuing each year's
sequence, which is then moved past them), made-up Spanish names with their accents,
valid cédulas (check digit; a few passports), a country of residence where Ecuadorians
abroad live. The newest `--open-fraction` of the cases are open: the last three working
days waiting for review, older ones past review (correction asked, call to schedule,
call scheduled, identity validated) and a few overdue. The rest are final. Review
deadlines come from the working-day calendar (holidays table included); open cases
and reviewed ones are assigned to the users who may take cases, if there are any.

On PostgreSQL the rows stream in with COPY (the indexes that back no constraint are
dropped first and built again after, in the same transaction), then ANALYZE; on SQLite
they go in with bulk_create in batches.
"""

import datetime as dt
import math
import random
import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone
from stdnum import luhn

from ventanilla.cases.constants import CaseStatus, IdType
from ventanilla.cases.models import Case, CaseNumberSequence
from ventanilla.cases.numbers import case_number_format
from ventanilla.checks.constants import Recommendation
from ventanilla.staff.roles import Permission, users_with
from ventanilla.workdays.selectors import ECUADOR, working_day_deadline

MAX_PER_YEAR = 999_999  # six digits of sequence in a case number
CASES_PER_DAY = 1_000  # the pace the submissions are spread at (more days for more cases)
MIN_DAYS = 90
SQLITE_BATCH = 2_000

FEMALE_NAMES = [
    "María", "Ana", "Rosa", "Carmen", "Luz", "Mónica", "Verónica", "Inés", "Belén",
    "Sofía", "Lucía", "Dolores", "Fernanda", "Gabriela", "Daniela", "Andrea", "Patricia",
    "Jéssica", "Mariela", "Nathaly", "Tatiana", "Elena", "Beatriz", "Martha", "Consuelo",
    "Mercedes", "Johanna", "Karina", "Lorena", "Maribel", "Noemí", "Raquel", "Zoila",
    "Rocío", "Araceli", "Soledad", "Inmaculada", "Ángela", "Jimena", "Yadira",
]  # fmt: skip
MALE_NAMES = [
    "José", "Luis", "Juan", "Carlos", "Jorge", "Andrés", "Jesús", "Ángel", "Raúl",
    "Sebastián", "Joaquín", "Martín", "Nicolás", "Rubén", "Héctor", "Óscar", "Iván",
    "Fernando", "Diego", "Miguel", "Pedro", "Víctor", "Darío", "Efraín", "Germán",
    "Hernán", "Julián", "Marcelo", "Patricio", "Ramón", "Simón", "Tomás", "Wilson",
    "Édgar", "Fabián", "Cristóbal", "Esteban", "Alberto", "Vinicio", "Segundo",
]  # fmt: skip
SURNAMES = [
    "Pérez", "González", "Rodríguez", "Sánchez", "Ramírez", "López", "Martínez",
    "Hernández", "Jiménez", "Chávez", "Guamán", "Quispe", "Pilataxi", "Toapanta", "Tomalá",
    "Andrade", "Vásquez", "Suárez", "Zambrano", "Mendoza", "Cedeño", "Villacís", "Muñoz",
    "Núñez", "Ordóñez", "Benítez", "Chicaiza", "Cevallos", "Ibarra", "Peña", "Yánez",
    "Álvarez", "Gómez", "Díaz", "Torres", "Flores", "Morales", "Castillo", "Romero",
    "Herrera", "Aguirre", "Espinoza", "Calderón", "Montaño", "Carrión", "Cárdenas", "Loor",
    "Macías", "Bravo", "Salazar", "Guerrero", "Ortiz", "Vera", "Reyes", "Paredes",
    "Sarmiento", "Quishpe", "Caiza", "Tituaña", "Guañuna", "Criollo", "Maldonado", "Jaramillo",
    "Narváez", "Proaño", "Velásquez", "Chimbo", "Lema", "Yépez", "Pazmiño", "Egüez", "Ayala",
    "Cabrera", "Córdova", "Durán", "Escobar", "Fajardo", "Galarza", "Intriago", "León",
    "Mejía", "Naranjo", "Ochoa", "Palacios", "Quiroz", "Rivadeneira", "Solórzano", "Tapia",
    "Ulloa", "Valarezo", "Villavicencio", "Zúñiga", "Acosta", "Barrera", "Cordero", "Dávila",
    "Encalada", "Freire", "Granda", "Hidalgo",
]  # fmt: skip
# Where Ecuadorians abroad live (weight, country, ISO 3166-2 region, city, postal code
# pattern with # for a digit, phone prefix and digits).
PLACES = [
    (22, "US", "US-NY", "Queens", "113##", "+1 718 555 ", 4),
    (12, "US", "US-NJ", "Newark", "071##", "+1 201 555 ", 4),
    (6, "US", "US-FL", "Miami", "331##", "+1 305 555 ", 4),
    (4, "US", "US-IL", "Chicago", "606##", "+1 312 555 ", 4),
    (18, "ES", "ES-M", "Madrid", "280##", "+34 6", 8),
    (10, "ES", "ES-B", "Barcelona", "080##", "+34 6", 8),
    (5, "ES", "ES-MU", "Murcia", "300##", "+34 6", 8),
    (4, "ES", "ES-V", "Valencia", "460##", "+34 6", 8),
    (7, "IT", "IT-MI", "Milán", "201##", "+39 3", 9),
    (4, "IT", "IT-GE", "Génova", "161##", "+39 3", 9),
    (2, "GB", "GB-LND", "Londres", "", "+44 7", 9),
    (1, "DE", "DE-BE", "Berlín", "101##", "+49 15", 9),
    (1, "FR", "FR-75C", "París", "750##", "+33 6", 8),
    (1, "CA", "CA-ON", "Toronto", "", "+1 416 555 ", 4),
    (1, "MX", "MX-CMX", "Ciudad de México", "060##", "+52 55 ", 8),
    (1, "CL", "CL-RM", "Santiago", "8320###", "+56 9", 8),
    (1, "CO", "CO-DC", "Bogotá", "", "+57 3", 9),
    (1, "PE", "PE-LIM", "Lima", "", "+51 9", 8),
]
SECTORS = ["Centro", "Norte", "Sur", "La Mariscal", "Urdesa", "El Batán", "Totoracocha"]
FINAL_MIX = [
    (70, CaseStatus.COMPLETED),
    (13, CaseStatus.REQUIREMENTS_REJECTED),
    (7, CaseStatus.EXPIRED),
    (6, CaseStatus.WITHDRAWN),
    (4, CaseStatus.IDENTITY_REJECTED),
]
REVIEWED_MIX = [  # open cases past their requirements review
    (30, CaseStatus.CORRECTION_REQUESTED),
    (30, CaseStatus.CALL_PENDING),
    (30, CaseStatus.CALL_SCHEDULED),
    (10, CaseStatus.IDENTITY_VALIDATED),
]
RECOMMENDATION_MIX = [
    (80, Recommendation.READY_FOR_CALL),
    (10, Recommendation.NEEDS_CORRECTION),
    (7, Recommendation.MANUAL_REVIEW),
    (3, Recommendation.SUSPICIOUS),
]
OVERDUE_SHARE = 0.02  # of the open cases: still waiting for review past their deadline
NOT_IN_REGISTRY_SHARE = 0.06
PASSPORT_SHARE = 0.04


def _weighted(mix):
    weights, values = zip(*mix, strict=True)
    return list(values), list(weights)


def cedula(rng: random.Random, province: str) -> str:
    """A cédula valid by its check digit: province, a third digit below 6, six digits.
    For ten digits the Registro Civil's coefficients (2,1,2,...) are Luhn's."""
    body = f"{province}{rng.randrange(6)}{rng.randrange(1_000_000):06d}"
    return body + luhn.calc_check_digit(body)


def _fill(rng: random.Random, pattern: str) -> str:
    """The pattern with its # (a run at the end, if any) replaced by random digits."""
    digits = pattern.count("#")
    if not digits:
        return pattern
    return pattern[:-digits] + f"{rng.randrange(10**digits):0{digits}d}"


def _ascii(text: str) -> str:
    return text.lower().translate(str.maketrans("áéíóúüñ", "aeiouun")).replace(" ", "")


class Generator:
    """Makes the field values of one synthetic case after another, oldest first."""

    def __init__(self, *, count: int, seed: int, open_fraction: float, analysts: list[int]):
        self.rng = random.Random(seed)
        self.count = count
        self.now = timezone.now()
        days = max(MIN_DAYS, math.ceil(count / CASES_PER_DAY))
        self.start = self.now - dt.timedelta(days=days)
        self.step = (self.now - self.start) / count
        self.open_from = count - round(count * open_fraction)
        self.analysts = analysts
        self.working_days = settings.REVIEW_WORKING_DAYS
        self.places = _weighted([(p[0], p[1:]) for p in PLACES])
        self.final_mix = _weighted(FINAL_MIX)
        self.reviewed_mix = _weighted(REVIEWED_MIX)
        self.recommendation_mix = _weighted(RECOMMENDATION_MIX)
        self.sequences = dict(CaseNumberSequence.objects.values_list("year", "last_value"))
        self.last_numbers: dict[int, int] = {}
        # The review deadline of a case submitted on each day (Ecuador), by the calendar.
        # Read now: no query may run on the connection while COPY streams the rows.
        first_day = timezone.localtime(self.start).date()
        self.deadlines = {
            day: working_day_deadline(
                dt.datetime.combine(day, dt.time(12), tzinfo=ECUADOR), self.working_days
            )
            for day in (
                first_day + dt.timedelta(days=n)
                for n in range((timezone.localtime(self.now).date() - first_day).days + 1)
            )
        }

    def _number(self, submitted_at: dt.datetime) -> str:
        year = submitted_at.astimezone(ECUADOR).year  # TIME_ZONE is Ecuador's
        sequence = self.last_numbers.get(year, self.sequences.get(year, 0)) + 1
        if sequence > MAX_PER_YEAR:
            raise CommandError(f"El año {year} ya no tiene números de trámite libres.")
        self.last_numbers[year] = sequence
        return case_number_format(year, sequence)

    def _status(self, index: int, submitted_at: dt.datetime, due: dt.datetime) -> CaseStatus:
        rng = self.rng
        if index < self.open_from:
            return rng.choices(*self.final_mix)[0]
        if due >= self.now or rng.random() < OVERDUE_SHARE:
            # Waiting for the analyst: within its deadline, or overdue (a breach).
            return (
                CaseStatus.SUBMITTED
                if self.now - submitted_at < dt.timedelta(minutes=10)
                else CaseStatus.IN_REVIEW
            )
        return rng.choices(*self.reviewed_mix)[0]

    def case(self, index: int) -> dict:
        rng = self.rng
        submitted_at = self.start + self.step * index + self.step * rng.random()
        due = self.deadlines[submitted_at.astimezone(ECUADOR).date()]
        status = self._status(index, submitted_at, due)
        reviewed = status not in (CaseStatus.SUBMITTED, CaseStatus.IN_REVIEW)
        # When the case last changed: before now, after submission.
        age = self.now - submitted_at
        changed_at = submitted_at + age * rng.uniform(0.05, 0.6) if reviewed else submitted_at
        reviewed_at = min(changed_at, due) if reviewed else None
        review_due_at = due
        days_left = None
        if status == CaseStatus.CORRECTION_REQUESTED:
            review_due_at, days_left = None, rng.randint(1, self.working_days)
        elif status in (CaseStatus.WITHDRAWN, CaseStatus.EXPIRED) and rng.random() < 0.5:
            review_due_at, reviewed_at = None, None  # left while a correction was pending
        checked = status != CaseStatus.SUBMITTED
        assigned_to = None
        if self.analysts and (reviewed or rng.random() < 0.6):
            assigned_to = rng.choice(self.analysts)

        female = rng.random() < 0.5
        given = FEMALE_NAMES if female else MALE_NAMES
        first_names = " ".join(rng.sample(given, 2))
        last_names = f"{rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
        country, region, city, postal, phone_prefix, phone_digits = rng.choices(*self.places)[0]
        birth_date = dt.date(1945, 1, 1) + dt.timedelta(days=rng.randrange(60 * 365))
        province = f"{rng.randint(1, 24):02d}"
        if rng.random() < PASSPORT_SHARE:
            id_type, id_number = IdType.PASSPORT, f"A{rng.randrange(10**8):08d}"
        else:
            id_type, id_number = IdType.CEDULA, cedula(rng, province)
        flags = ["not_in_registry"] if rng.random() < NOT_IN_REGISTRY_SHARE else []
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        return {
            "public_id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "number": self._number(submitted_at),
            "status": status.value,
            "submitted_at": submitted_at,
            "status_changed_at": changed_at,
            "review_due_at": review_due_at,
            "review_working_days_left": days_left,
            "reviewed_at": reviewed_at,
            "checks_enqueued_at": submitted_at,
            "checks_completed_at": submitted_at + dt.timedelta(seconds=rng.randint(20, 90))
            if checked
            else None,
            "assigned_to_id": assigned_to,
            "assigned_at": submitted_at + (changed_at - submitted_at) / 2 if assigned_to else None,
            "id_type": id_type.value,
            "id_number": id_number,
            "first_names": first_names,
            "last_names": last_names,
            "birth_date": birth_date,
            "birth_province": province,
            "fingerprint_code": f"{rng.choice(letters)}{rng.randrange(10**4):04d}"
            f"{rng.choice(letters)}{rng.randrange(10**4):04d}",
            "id_issue_date": birth_date + dt.timedelta(days=18 * 366 + rng.randrange(3000)),
            "sector": rng.choice(SECTORS),
            "message": "Solicito la actualización de mis datos de contacto porque resido "
            "en el exterior.",
            "residence_country": country,
            "residence_region": region,
            "residence_city": city,
            "postal_code": _fill(rng, postal),
            "foreign_phone": phone_prefix + _fill(rng, "#" * phone_digits),
            "email": f"{_ascii(first_names.split()[0])}.{_ascii(last_names.split()[0])}"
            f"{rng.randrange(1000)}@example.org",
            "ecuador_mobile": f"09{rng.randrange(10**8):08d}",
            "ecuador_landline": "",
            "flags": flags,
            "checks_recommendation": rng.choices(*self.recommendation_mix)[0].value
            if checked
            else "",
        }


def _columns() -> list[models.Field]:
    """Every stored column of a case but the id and the generated ones."""
    return [
        f
        for f in Case._meta.concrete_fields
        if not f.primary_key and not isinstance(f, models.GeneratedField)
    ]


class Command(BaseCommand):
    help = (
        "Genera trámites sintéticos en bloque (solo filas de cases_case: sin archivos ni "
        "documentos) para las pruebas de rendimiento de la cola. Nunca en producción."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="cuántos trámites crear")
        parser.add_argument("--seed", type=int, default=1, help="semilla (mismos datos)")
        parser.add_argument(
            "--open-fraction",
            type=float,
            default=0.03,
            help="fracción de trámites abiertos, los más recientes (0.03 = 3 %%)",
        )

    def handle(self, *args, count: int, seed: int, open_fraction: float, **options):
        if count < 1:
            raise CommandError("Indique con --count un número de trámites mayor que 0.")
        if not 0 <= open_fraction <= 1:
            raise CommandError("--open-fraction va de 0 a 1, por ejemplo 0.03 para el 3 %.")
        started = time.monotonic()
        analysts = list(users_with(Permission.TAKE_CASES).values_list("pk", flat=True))
        generator = Generator(
            count=count, seed=seed, open_fraction=open_fraction, analysts=analysts
        )
        rows = (generator.case(i) for i in range(count))
        with transaction.atomic():
            if connection.vendor == "postgresql":
                self._copy(rows)
            else:
                for start in range(0, count, SQLITE_BATCH):
                    batch = [next(rows) for _ in range(min(SQLITE_BATCH, count - start))]
                    Case.objects.bulk_create([Case(**row) for row in batch])
            for year, last in generator.last_numbers.items():
                CaseNumberSequence.objects.update_or_create(
                    year=year, defaults={"last_value": last}
                )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE cases_case")
        if not analysts:
            self.stdout.write(
                "Nadie puede recibir trámites todavía: ninguno quedó asignado. Cree analistas "
                "antes para repartirlos."
            )
        self.stdout.write(
            f"{count} trámites sintéticos creados en {time.monotonic() - started:.0f} s "
            f"({count - generator.open_from} abiertos), sin archivos ni documentos."
        )

    def _copy(self, rows) -> None:
        """COPY the rows in; the indexes without a constraint are rebuilt once at the end,
        which is much faster than keeping them (the trigram index above all) up to date."""
        fields = _columns()
        table = Case._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = %s AND NOT "
                "EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [table],
            )
            indexes = cursor.fetchall()
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
            # Only JSON needs Django's preparation (psycopg writes the other types as they
            # are); skipping it for the rest halves the time of a million rows.
            json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
            defaults = {f.attname: f.get_default() for f in fields}
            names = [f.attname for f in fields]
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    values = [row.get(name, defaults[name]) for name in names]
                    for i in json_columns:
                        values[i] = fields[i].get_db_prep_save(values[i], connection)
                    copy.write_row(values)
            # Django's foreign keys are checked at commit; an index cannot be built while
            # those checks are pending, so run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for _name, definition in indexes:
                cursor.execute(definition)
