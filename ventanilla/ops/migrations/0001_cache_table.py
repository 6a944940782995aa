"""The table of the shared cache (CACHE_URL's default, ventanilla/ops/cache.py), so that
`migrate` alone prepares a database. With CACHE_URL on Redis there is nothing to create;
switching back to the database cache later needs `manage.py createcachetable`."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = []

    operations = [
        migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False),
    ]
