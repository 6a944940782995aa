"""The shared cache kept in the application's database (CACHE_URL's default).

Rate-limit counters (ventanilla/ops/ratelimits.py) must be seen by every web process,
which Django's per-process memory cache is not; the database already is, so the
embedded default needs no other server. Production may point CACHE_URL to Redis.
"""

import base64
import datetime as dt
import itertools
import pickle

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, models, router
from django.utils import timezone

# An `add` deletes the expired entries once in this many (per process), instead of Django's
# count of the whole table before every write.
CULL_EVERY_ADDS = 1000
# An increment that keeps losing the race to other processes gives up after this many reads
# (each loss means another request was counted: a few hundred at once on one key at most).
INCR_ATTEMPTS = 1000


class CounterDatabaseCache(DatabaseCache):
    """Django's database cache with an increment fit for counters.

    Django's own `incr` reads the value, then writes it back with the cache's default
    timeout: two requests at once count one, and a counter meant for six hours
    disappears after five minutes without a request. This one writes the new value only
    over the value it read (compare and set, `incr`) and keeps the entry's expiry."""

    def __init__(self, table, params):
        super().__init__(table, params)
        self._adds = itertools.count(1)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """Django's `add` (store unless a live entry has the key) in one statement: an
        INSERT that, on a key already there, replaces only an expired entry. Django's own
        counts the whole table first and then reads the key: three statements per new rate-
        limit counter. Expired entries are deleted once every CULL_EVERY_ADDS adds; live
        ones never are (Django culls a third of them past MAX_ENTRIES)."""
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        if connection.vendor not in ("postgresql", "sqlite"):
            return super().add(key, value, timeout)
        quote_name = connection.ops.quote_name
        table = quote_name(self._table)
        expires_column = quote_name("expires")
        now = timezone.now().replace(microsecond=0)
        backend_timeout = self.get_backend_timeout(timeout)
        zone = dt.UTC if settings.USE_TZ else None
        if backend_timeout is None:
            expires = dt.datetime.max.replace(tzinfo=zone)
        else:
            expires = dt.datetime.fromtimestamp(backend_timeout, tz=zone)
        encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        adapt = connection.ops.adapt_datetimefield_value
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({quote_name('cache_key')}, {quote_name('value')}, "  # noqa: S608
                f"{expires_column}) VALUES (%s, %s, %s) ON CONFLICT ({quote_name('cache_key')}) "
                f"DO UPDATE SET {quote_name('value')} = EXCLUDED.{quote_name('value')}, "
                f"{expires_column} = EXCLUDED.{expires_column} "
                f"WHERE {table}.{expires_column} < %s",
                [key, encoded, adapt(expires.replace(microsecond=0)), adapt(now)],
            )
            added = cursor.rowcount == 1
            if next(self._adds) % CULL_EVERY_ADDS == 0:
                cursor.execute(
                    f"DELETE FROM {table} WHERE {expires_column} < %s",  # noqa: S608
                    [adapt(now)],
                )
        return added

    def incr(self, key, delta=1, version=None):
        """Read the counter, then write the new value only if the entry still holds the
        value read (compare and set): two statements and no transaction of their own,
        where a row lock needs four round trips (begin, lock, write, commit). A write that
        finds another process got there first reads again."""
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        table = quote_name(self._table)
        value_column, key_column = quote_name("value"), quote_name("cache_key")
        with connection.cursor() as cursor:
            for _attempt in range(INCR_ATTEMPTS):
                cursor.execute(
                    f"SELECT {value_column}, {quote_name('expires')} FROM {table} "  # noqa: S608
                    f"WHERE {key_column} = %s",
                    [key],
                )
                row = cursor.fetchone()
                if row is None or self._expires(connection, row[1]) < timezone.now():
                    raise ValueError(f"Key '{key}' not found")
                stored = connection.ops.process_clob(row[0])
                value = pickle.loads(  # noqa: S301 (written by this cache, never by a client)
                    base64.b64decode(stored.encode(), validate=True)
                )
                new_value = value + delta
                encoded = base64.b64encode(pickle.dumps(new_value, self.pickle_protocol))
                cursor.execute(
                    f"UPDATE {table} SET {value_column} = %s "  # noqa: S608
                    f"WHERE {key_column} = %s AND {value_column} = %s",
                    [encoded.decode("latin1"), key, stored],
                )
                if cursor.rowcount == 1:
                    return new_value
        raise RuntimeError(f"Counter '{key}' kept changing during {INCR_ATTEMPTS} attempts")

    @staticmethod
    def _expires(connection, value):
        """The expiry column as an aware datetime, whatever the database returns."""
        expression = models.Expression(output_field=models.DateTimeField())
        for converter in connection.ops.get_db_converters(
            expression
        ) + expression.get_db_converters(connection):
            value = converter(value, expression, connection)
        return value
