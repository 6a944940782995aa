from django.core.management.base import BaseCommand

from ventanilla.documents.retention import retention_purge


class Command(BaseCommand):
    help = (
        "Elimina los archivos de los trámites cerrados cuyo plazo de conservación terminó "
        "(RETENTION_*_DAYS desde la decisión final); conserva la decisión y las huellas "
        "SHA-256. El planificador (run_scheduler) lo hace cada hora; esto es para el operador."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Solo informa lo que se eliminaría; no borra nada.",
        )

    def handle(self, *args, dry_run: bool, **options):
        report = retention_purge(dry_run=dry_run)
        for line in report.lines():
            self.stdout.write(line)
