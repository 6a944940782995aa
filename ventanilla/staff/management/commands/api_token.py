from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ventanilla.staff.services import api_token_create


class Command(BaseCommand):
    help = (
        "Print a new staff API token for an existing staff user. The user must have "
        "activated the second factor (signed in once to /gestion/ and enrolled an "
        "authenticator app); tokens stop working if that factor is reset."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No existe el usuario «{username}».")
        try:
            key = api_token_create(user=user)
        except PermissionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(key)
