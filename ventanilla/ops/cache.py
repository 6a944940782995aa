"""The shared cache kept in the application's database (CACHE_URL's default).

Rate-limit counters (ventanilla/ops/ratelimits.py) must be seen by every web process,
which Django's per-process memory cache is not; the database already is, so the
embedded default needs no other server. Production may point CACHE_URL to Redis.
"""

import base64
import pickle

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, models, router, transaction
from django.utils import timezone


class CounterDatabaseCache(DatabaseCache):
    """Django's database cache with an increment fit for counters.

    Django's own `incr` reads the value, then writes it back with the cache's default
    timeout: two requests at once count one, and a counter meant for six hours
    disappears after five minutes without a request. This one adds under a row lock
    (SELECT ... FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE, settings/base.py,
    already serialises writers) and keeps the entry's expiry."""

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        table = quote_name(self._table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote_name('value')}, {quote_name('expires')} FROM {table} "  # noqa: S608
                f"WHERE {quote_name('cache_key')} = %s{lock}",
                [key],
            )
            row = cursor.fetchone()
            if row is None or self._expires(connection, row[1]) < timezone.now():
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(  # noqa: S301 (written by this cache, never by a client)
                base64.b64decode(connection.ops.process_clob(row[0]).encode(), validate=True)
            )
            new_value = value + delta
            encoded = base64.b64encode(pickle.dumps(new_value, self.pickle_protocol))
            cursor.execute(
                f"UPDATE {table} SET {quote_name('value')} = %s "  # noqa: S608
                f"WHERE {quote_name('cache_key')} = %s",
                [encoded.decode("latin1"), key],
            )
        return new_value

    @staticmethod
    def _expires(connection, value):
        """The expiry column as an aware datetime, whatever the database returns."""
        expression = models.Expression(output_field=models.DateTimeField())
        for converter in connection.ops.get_db_converters(
            expression
        ) + expression.get_db_converters(connection):
            value = converter(value, expression, connection)
        return value
