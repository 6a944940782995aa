from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ventanilla.registry.services import insured_import_csv


class Command(BaseCommand):
    help = (
        "Load insured persons from a CSV with at least the columns "
        "id_number,first_names,last_names,birth_date,insured_type,email,phone."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.exists():
            raise CommandError(f"No existe el archivo {file}")
        with file.open(newline="", encoding="utf-8-sig") as stream:
            try:
                report = insured_import_csv(stream=stream)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
        for error in report.errors:
            self.stderr.write(error)
        self.stdout.write(
            f"{report.created} asegurados creados, {report.updated} actualizados, "
            f"{len(report.errors)} filas con errores."
        )
