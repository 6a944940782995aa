from django.core.management.base import BaseCommand
from django.utils import timezone

from ventanilla.workdays.services import holidays_seed


class Command(BaseCommand):
    help = "Seed the holiday calendar from the `holidays` package (existing rows are kept)."

    def add_arguments(self, parser):
        this_year = timezone.localdate().year
        parser.add_argument("years", nargs="*", type=int, default=[this_year, this_year + 1])

    def handle(self, *args, years, **options):
        added = holidays_seed(years=years)
        self.stdout.write(f"{added} feriados añadidos para {', '.join(map(str, years))}.")
