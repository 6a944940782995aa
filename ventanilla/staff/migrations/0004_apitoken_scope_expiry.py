"""API tokens get a scope and an expiry. Tokens made before had the full power of their
owner's role: they keep the widest scope, and expire 90 days after they were made."""

import datetime as dt

from django.db import migrations, models


def expiry_for_existing(apps, schema_editor):
    ApiToken = apps.get_model("staff", "ApiToken")
    for token in ApiToken.objects.filter(expires_at__isnull=True).only("pk", "created_at"):
        token.expires_at = token.created_at + dt.timedelta(days=90)
        token.save(update_fields=["expires_at"])


class Migration(migrations.Migration):
    dependencies = [("staff", "0003_passkeydevice")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="scope",
            field=models.CharField(
                choices=[
                    ("read", "Lectura (cola, trámites, registro)"),
                    ("decide", "Lectura y decisiones sobre los trámites"),
                ],
                default="decide",
                max_length=16,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(expiry_for_existing, migrations.RunPython.noop),
    ]
