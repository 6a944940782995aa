import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from ventanilla.documents.encryption import MasterKeyError, master_key_generate


class Command(BaseCommand):
    help = (
        "Print a new master key for the stored files, as FILE_ENCRYPTION_KEYS expects it "
        "(id:base64 of 32 random bytes), on one line. To rotate: put it FIRST in "
        "FILE_ENCRYPTION_KEYS, keep the old key after it, restart, run rotate_file_keys, "
        "then remove the old key (docs/security.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--id",
            dest="key_id",
            default="",
            help="The key's id (1-32 letters, digits, '-' or '_'). Default: k<today's date>.",
        )

    def handle(self, *args, key_id, **options):
        try:
            today = dt.datetime.now(tz=dt.UTC).date()
            self.stdout.write(master_key_generate(key_id or f"k{today:%Y%m%d}"))
        except MasterKeyError as exc:
            raise CommandError(str(exc)) from None
