from django.db import migrations, models


class Migration(migrations.Migration):
    # Apart from 0004, so that PostgreSQL alters the table after the rows were filled in
    # and committed.
    dependencies = [("staff", "0004_apitoken_scope_expiry")]

    operations = [
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(),
        ),
    ]
