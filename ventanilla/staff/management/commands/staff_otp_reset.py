from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ventanilla.staff.services import staff_second_factor_reset


class Command(BaseCommand):
    help = (
        "Remove a staff user's authenticator app and backup codes (a lost phone): their "
        "next sign-in asks them to enrol again; their API tokens stop working until then."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No existe el usuario «{username}».")
        removed = staff_second_factor_reset(user=user)
        self.stdout.write(
            f"Verificación en dos pasos de «{username}» reiniciada ({removed} registros borrados). "
            "En su próximo ingreso deberá activar de nuevo la aplicación de autenticación."
        )
