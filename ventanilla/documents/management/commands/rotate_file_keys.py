from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError

from ventanilla.documents.storage import stored_files_rewrap


class Command(BaseCommand):
    help = (
        "Re-wrap the data key of every stored file under the current master key (the first "
        "of FILE_ENCRYPTION_KEYS). Only the header of each file changes; the service keeps "
        "running. Safe to interrupt and run again. Afterwards the other keys can be removed "
        "from FILE_ENCRYPTION_KEYS. --encrypt-plaintext also encrypts files stored in the "
        "clear before encryption at rest existed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count every file; change nothing."
        )
        parser.add_argument(
            "--encrypt-plaintext",
            action="store_true",
            help="Encrypt files found in the clear (written before encryption at rest).",
        )

    def handle(self, *args, dry_run, encrypt_plaintext, **options):
        try:
            report = stored_files_rewrap(dry_run=dry_run, encrypt_plaintext=encrypt_plaintext)
        except (BotoCoreError, ClientError) as exc:
            raise CommandError(
                f"The S3 storage failed: {exc}. Check STORAGE_URL, the credentials "
                "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the machine's role) and that "
                "the server answers, then run this command again: files already re-wrapped "
                "are skipped."
            ) from exc
        would = "would be " if dry_run else ""
        self.stdout.write(f"Current master key: {report.key_id}")
        self.stdout.write(f"Files {would}re-wrapped: {report.rewrapped}")
        self.stdout.write(f"Files already under the current key: {report.current}")
        if report.encrypted or encrypt_plaintext:
            self.stdout.write(f"Files in the clear {would}encrypted: {report.encrypted}")
        if report.stale_temporary_removed:
            self.stdout.write(
                "Temporary files of an interrupted run "
                f"{would}removed: {report.stale_temporary_removed}"
            )
        self.stdout.write(f"Files failed: {len(report.failed)}")
        for name, why in report.failed:
            self.stderr.write(f"  {name}: {why}")
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} file(s) could not be re-wrapped (listed above). Keep "
                "every old key in FILE_ENCRYPTION_KEYS until this command reports no failure."
            )
