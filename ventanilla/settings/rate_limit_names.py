"""The names of every rate-limit setting of base.py (section D1), for the places that
raise them all at once: the test settings, and the servers the fault tests start
(ventanilla/testing/webserver.py). Plain Python, importable before Django's settings."""

RATE_LIMIT_SETTINGS = (
    "RATE_LIMIT_SUBMISSIONS_PER_CLIENT",
    "RATE_LIMIT_SUBMISSIONS_PER_ID",
    "RATE_LIMIT_LOOKUPS_PER_CLIENT",
    "RATE_LIMIT_LOOKUPS_PER_CASE",
    "RATE_LIMIT_CORRECTIONS_PER_CLIENT",
    "RATE_LIMIT_EMAILS_PER_CLIENT",
    "RATE_LIMIT_EMAILS_PER_ADDRESS",
    "RATE_LIMIT_COMPLAINTS_PER_CLIENT",
)
