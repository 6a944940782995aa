"""Log records that say which request (and which case) they belong to.

The audit middleware already keeps the request's client, with a random request id, in a
context variable while the request is served (ventanilla/audit/client.py) and sends the
id back in the X-Request-ID header. `RequestContextFilter` copies that id onto every log
record, so one request's log lines, its audit events and the id a staff member quotes
can be matched. Records written outside a request (the worker, the scheduler) carry
`request_id: null`. A call that concerns one case passes its number:
`logger.info("...", extra={"case": case.number})`.

`logging_config(log_format)` builds settings.LOGGING: `plain` text for a terminal, or
`json`, one object per line (time, level, logger, message, request_id, and any
`extra` such as `case`) for a log collector.
"""

import logging

from django.core.exceptions import ImproperlyConfigured

from ventanilla.audit.client import current_client

LOG_FORMATS = ("plain", "json")


class RequestContextFilter(logging.Filter):
    """Adds `request_id` (None outside a request) and `case` (None unless the call
    passed one in `extra`) to every record; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        client = current_client.get()
        if client is not None:
            record.request_id = client.request_id
        else:
            # django.request logs a 4xx/5xx response after the middleware has returned,
            # passing the request itself, on which the middleware left the id.
            record.request_id = getattr(getattr(record, "request", None), "request_id", None)
        if not hasattr(record, "case"):
            record.case = None
        return True


def logging_config(log_format: str, level: str = "INFO") -> dict:
    """settings.LOGGING for `log_format` ("plain" or "json") at the root `level`."""
    if log_format not in LOG_FORMATS:
        raise ImproperlyConfigured(
            f"LOG_FORMAT={log_format!r} is not valid: use one of {', '.join(LOG_FORMATS)} "
            "(see .env.example)."
        )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": RequestContextFilter}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(levelname)s %(name)s %(message)s %(request_id)s %(case)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                # ISO 8601 in UTC, from the record's own creation time.
                "timestamp": "time",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # pyHanko logs a traceback for every untrusted or altered signature; the check's
            # evidence already says it, in Spanish, to the analyst.
            "pyhanko": {"level": "ERROR"},
            "pyhanko_certvalidator": {"level": "ERROR"},
            "faster_whisper": {"level": "WARNING"},
            "RapidOCR": {"level": "WARNING"},
        },
    }
