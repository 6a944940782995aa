"""The shared cache in the database (ventanilla/ops/cache.py): what rate-limit counters
need from it, a count that loses no attempt and keeps its window."""

import pytest
from django.core.cache import cache, caches
from django.db import connection

from ventanilla.testing.concurrency import run_at_once

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def _expiries(key: str) -> list:
    """The expiry of every row the cache table holds for `key` (one at most)."""
    table = connection.ops.quote_name("ventanilla_cache")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT expires FROM {table} WHERE cache_key = %s",  # noqa: S608
            [cache.make_and_validate_key(key)],
        )
        return [row[0] for row in cursor.fetchall()]


def _expires(key: str):
    [expires] = _expiries(key)
    return expires


def test_the_cache_is_the_counter_database_cache_in_its_own_table():
    assert type(caches["default"]).__name__ == "CounterDatabaseCache"
    assert "ventanilla_cache" in connection.introspection.table_names()


def test_an_increment_keeps_the_counters_expiry():
    # Django's own increment rewrites the entry with the default timeout (5 minutes): a
    # six-hour window would restart after five quiet minutes.
    assert cache.add("window", 1, 6 * 3600)
    expires = _expires("window")
    assert cache.incr("window") == 2
    assert cache.incr("window", 3) == 5
    assert cache.get("window") == 5
    assert _expires("window") == expires


def test_an_increment_of_a_missing_or_expired_counter_fails_like_any_cache():
    with pytest.raises(ValueError, match="not found"):
        cache.incr("never-set")
    cache.set("gone", 1, timeout=-10)
    with pytest.raises(ValueError, match="not found"):
        cache.incr("gone")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_increments_from_several_processes_at_once_lose_no_count():
    cache.add("busy", 0, 3600)

    def count():
        for _ in range(20):
            cache.incr("busy")

    run_at_once(*[count] * 4)
    assert cache.get("busy") == 80


def test_add_stores_a_new_key_keeps_a_live_one_and_replaces_an_expired_one():
    assert cache.add("counter", 1, 3600) is True
    assert cache.add("counter", 7, 3600) is False  # live: left as it is
    assert cache.get("counter") == 1
    cache.set("stale", 5, timeout=-10)
    assert cache.get("stale") is None
    assert cache.add("stale", 2, 3600) is True  # expired: replaced, with the new expiry
    assert cache.get("stale") == 2
    assert cache.incr("stale") == 3
    assert cache.add("forever", 1, None) is True
    assert cache.get("forever") == 1


def test_adds_delete_the_expired_entries_from_time_to_time(monkeypatch):
    from ventanilla.ops import cache as cache_module

    monkeypatch.setattr(cache_module, "CULL_EVERY_ADDS", 3)
    cache.set("old", 1, timeout=-10)
    assert len(_expiries("old")) == 1
    # Within three adds of this process's cache the expired entry is deleted; live ones stay.
    cache.add("live", 1, 3600)
    for n in range(3):
        cache.add(f"new-{n}", 1, 3600)
    assert _expiries("old") == []
    assert cache.get("live") == 1 and cache.get("new-2") == 1
