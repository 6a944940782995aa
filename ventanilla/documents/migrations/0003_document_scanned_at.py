from django.db import migrations, models
from django.db.models import F


def scanned_at_intake(apps, schema_editor):
    """Files stored before this migration were scanned by the intake itself."""
    Document = apps.get_model("documents", "Document")
    Document.objects.filter(scanned_at__isnull=True).update(scanned_at=F("uploaded_at"))


class Migration(migrations.Migration):
    dependencies = [("documents", "0002_document_purged_at")]

    operations = [
        migrations.AddField(
            model_name="document",
            name="scanned_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(scanned_at_intake, migrations.RunPython.noop),
    ]
