"""Work run from several threads at once, as several web or worker processes would, each
thread on its own database connection (tests marked ``django_db(transaction=True)``)."""

import threading
from collections.abc import Callable

from django.db import connections


def run_at_once(*calls: Callable[[], object], timeout: float = 60) -> None:
    """Run each call in its own thread, all released together, and wait for them.

    Each thread closes its database connections when it ends. A thread cannot fail a test,
    so an exception raised in one is raised here, after all have ended, with the others'
    in its notes; a thread still running after ``timeout`` seconds is an error too."""
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        try:
            start.wait(timeout=timeout)
            call()
        except BaseException as exc:  # noqa: BLE001 (raised below, in the test's thread)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if any(thread.is_alive() for thread in threads):
        raise TimeoutError(f"a concurrent call was still running after {timeout} s")
    if errors:
        for other in errors[1:]:
            errors[0].add_note(f"another thread raised {other!r}")
        raise errors[0]
