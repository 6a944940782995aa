from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ventanilla.staff.models import ApiToken
from ventanilla.staff.services import api_token_create, api_token_revoke, api_tokens_of


def _local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


class Command(BaseCommand):
    help = (
        "Print a new staff API token for an existing staff user (only the token, on one "
        "line). The user must have activated the second factor (signed in once to /gestion/ "
        "and enrolled an authenticator app); tokens stop working if that factor is reset, "
        "when they expire (API_TOKEN_DAYS) or are revoked. --list <username> shows a user's "
        "tokens; --revoke <prefix> revokes one."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?")
        parser.add_argument(
            "--scope",
            choices=ApiToken.Scope.values,
            help="read: cola, trámites y registro; decide: además las decisiones. Por "
            "defecto, el más amplio que permite el rol.",
        )
        parser.add_argument("--list", metavar="USERNAME", dest="list_username")
        parser.add_argument("--revoke", metavar="PREFIX")

    def handle(self, *args, username, scope, list_username, revoke, **options):
        chosen = [bool(username), bool(list_username), bool(revoke)]
        if sum(chosen) != 1:
            raise CommandError(
                "Indique una sola cosa: un usuario (para crear un token), --list <usuario> "
                "o --revoke <prefijo>."
            )
        if list_username:
            self._list(self._user(list_username))
        elif revoke:
            self._revoke(revoke)
        else:
            try:
                key = api_token_create(user=self._user(username), scope=scope)
            except PermissionError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(key)

    def _user(self, username: str):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No existe el usuario «{username}».")
        return user

    def _list(self, user) -> None:
        now = timezone.now()
        tokens = list(api_tokens_of(user))
        if not tokens:
            self.stdout.write(f"{user.get_username()} no tiene tokens de la API.")
            return
        self.stdout.write("prefix\tscope\tcreated\tlast_used\texpires\tstate")
        for token in tokens:
            if token.revoked_at:
                state = f"revoked {_local(token.revoked_at)}"
            elif token.expires_at <= now:
                state = "expired"
            else:
                state = "active"
            last_used = _local(token.last_used_at) if token.last_used_at else "-"
            self.stdout.write(
                f"{token.prefix}\t{token.scope}\t{_local(token.created_at)}\t"
                f"{last_used}\t{_local(token.expires_at)}\t{state}"
            )

    def _revoke(self, prefix: str) -> None:
        tokens = list(ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True))
        if not tokens:
            raise CommandError(
                f"Ningún token sin revocar empieza por «{prefix}». Vea los de una persona con "
                "--list <usuario>."
            )
        if len(tokens) > 1:
            raise CommandError(
                f"Hay {len(tokens)} tokens sin revocar con el prefijo «{prefix}»: revóquelos "
                "desde la página del personal en /gestion/personal/."
            )
        token = api_token_revoke(actor=None, token=tokens[0])
        self.stdout.write(f"Token {token.prefix}… de {token.user.get_username()} revocado.")
