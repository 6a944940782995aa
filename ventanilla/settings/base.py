"""Ventanilla settings: one module, read from the environment.

Every variable is listed with its default and meaning in `.env.example`.
A malformed value stops start-up with a clear error instead of running with a
silently wrong configuration.
"""

import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from ventanilla.ops.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set (see .env.example).")
# Earlier keys still accepted for sessions and signed links while a new SECRET_KEY takes
# over (docs/deployment.md, "Key management").
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The address citizens and staff use; links in emails are built from it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "ventanilla.staff.admin_config.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    # D1: its system checks (the cache it counts in); the limits are ventanilla/ops/ratelimits.py.
    "django_ratelimit",
    "ventanilla.audit",
    "ventanilla.workdays",
    "ventanilla.registry",
    "ventanilla.cases",
    "ventanilla.drafts",
    "ventanilla.documents",
    "ventanilla.checks",
    "ventanilla.review",
    "ventanilla.appointments",
    "ventanilla.notifications",
    "ventanilla.privacy",
    "ventanilla.complaints",
    "ventanilla.transparency",
    "ventanilla.staff",
    "ventanilla.portal",
    "ventanilla.backoffice",
    "ventanilla.api",
    "ventanilla.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # D1: the Content-Security-Policy header of every response (SECURE_CSP below).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Before anything reads a body: uploads spooled to nameless temporary files (a killed
    # process leaves none); a database outage answers 503 (ventanilla/ops/middleware.py).
    "ventanilla.ops.middleware.NamelessUploadFilesMiddleware",
    "ventanilla.ops.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ventanilla.portal.middleware.SpanishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # user.is_verified(): the session passed the second factor (ventanilla/staff).
    "django_otp.middleware.OTPMiddleware",
    # Every audit event written during the request records its address, browser and id.
    "ventanilla.audit.middleware.AuditClientMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ventanilla.staff.middleware.StaffIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a lock-out noticed during the request into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out username and address before any password
# is checked, and counts the failures.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "ventanilla.urls"
WSGI_APPLICATION = "ventanilla.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "ventanilla" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# Database: SQLite (WAL) is the embedded default; PostgreSQL in CI and production.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ventanilla.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets the web process read while the worker writes; IMMEDIATE
            # takes the write lock at BEGIN so two writers queue instead of
            # failing half way through a transaction.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
# A connection kept between requests (?conn_max_age=SECONDS in DATABASE_URL; 0, the
# default, closes it after each request) is checked before a request reuses it, so that one
# broken by a PostgreSQL restart or failover is replaced instead of failing that request.
if DATABASES["default"].get("CONN_MAX_AGE", 0) != 0:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Files. Uploads go to a private folder that no URL serves; staff see them
# only through an audited view.
# STORAGE_URL picks where they are kept, encrypted either way: unset, PRIVATE_STORAGE_DIR;
# file:///absolute/path, that folder; s3://bucket/prefix?endpoint_url=...&region=..., an
# S3-compatible bucket (credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the
# machine's role). docs/deployment.md, "Object storage (S3-compatible)".
STORAGE_URL = env.str("STORAGE_URL", default="")
PRIVATE_STORAGE_DIR = Path(env.str("PRIVATE_STORAGE_DIR", default=str(VAR_DIR / "private")))
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "ventanilla" / "static"]
from ventanilla.documents.storage import storage_from_url  # noqa: E402

STORAGES = {
    # --- A. Encryption at rest (docs/security.md): every stored file is encrypted ---
    "default": storage_from_url(STORAGE_URL, default_location=PRIVATE_STORAGE_DIR),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if STORAGES["default"]["BACKEND"].endswith("EncryptedFileSystemStorage"):
    _storage_dir = Path(STORAGES["default"]["OPTIONS"]["location"])
    if "PRIVATE_STORAGE_DIR" in env.ENVIRON and _storage_dir != PRIVATE_STORAGE_DIR:
        raise ImproperlyConfigured(
            f"STORAGE_URL names the folder {_storage_dir} and PRIVATE_STORAGE_DIR names "
            f"{PRIVATE_STORAGE_DIR}: set only one of them."
        )
    PRIVATE_STORAGE_DIR = _storage_dir
# --- A. Encryption at rest (docs/security.md) ---
# Master keys of the stored files, "id:base64(32 bytes)" comma-separated: the first
# encrypts new files, the others only decrypt (rotation: manage.py rotate_file_keys).
FILE_ENCRYPTION_KEYS = env.list("FILE_ENCRYPTION_KEYS", default=[])
if not FILE_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "FILE_ENCRYPTION_KEYS must be set: the master key that encrypts the stored files "
        "(see .env.example). Generate one with `python -m ventanilla.documents.encryption` "
        "(or `manage.py file_key_generate` under the dev settings) and set "
        "FILE_ENCRYPTION_KEYS=<its output>; keep it in a secret store, apart from the backups."
    )
try:
    from ventanilla.documents.encryption import keyring_parse

    keyring_parse(FILE_ENCRYPTION_KEYS)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None
# Seconds a staff link to a file (document, video still, face crop) stays valid; it works
# only in the session that opened the case page (ventanilla/backoffice/file_links.py).
STAFF_FILE_LINK_SECONDS = env.int("STAFF_FILE_LINK_SECONDS", default=300)
if STAFF_FILE_LINK_SECONDS < 1:
    raise ImproperlyConfigured(
        f"STAFF_FILE_LINK_SECONDS must be a positive whole number, not {STAFF_FILE_LINK_SECONDS}."
    )
# --- end A ---
# A request whose body is bigger than this (Django compares the whole body, not each file)
# has its files spooled to (nameless) temporary files instead of memory. A whole submission
# (4 x 2 MB + 5 MB and the form) fits, so its identity documents never touch the disk
# unencrypted, and the intake does not write and read them back (issue 9); a recording
# sent for conversion (up to VIDEO_CONVERSION_MAX_BYTES) is spooled.
FILE_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024
# The five uploads together are at most 4 x 2 MB + 5 MB; leave room for the form.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

# Background work: Django's tasks API on the database-backed queue. Two queues, each with
# workers of its own (manage.py run_worker --queue-name ...; docs/deployment.md): "checks"
# for the verification pipeline (speech-to-text, minutes of CPU per burst of videos) and
# "default" for emails and text messages, which a burst of videos must never delay.
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "checks"],
    }
}
# How long a case's checks, or an email in `sending`, may stay unfinished before the
# scheduler assumes its worker died and enqueues the work again.
STALLED_WORK_AFTER_SECONDS = env.int("STALLED_WORK_AFTER_SECONDS", default=600)
SCHEDULER_INTERVAL_SECONDS = env.int("SCHEDULER_INTERVAL_SECONDS", default=30)

# Email: every message goes through the outbox table, then SMTP.
_email = env.email_url("EMAIL_URL", default="smtp://127.0.0.1:2525")
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": (
            {
                "host": _email.get("EMAIL_HOST", ""),
                "port": _email.get("EMAIL_PORT"),
                "username": _email.get("EMAIL_HOST_USER", ""),
                "password": _email.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": _email.get("EMAIL_USE_TLS", False),
                "use_ssl": _email.get("EMAIL_USE_SSL", False),
                "timeout": env.int("EMAIL_TIMEOUT", default=20),
            }
            if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Ventanilla IESS <ventanilla@iess.gob.ec>"
)
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=8)

# Text messages: outbox table, then SMS_BACKEND (ventanilla/notifications/sms_backends.py
# documents the interface). The default writes each message to a file in SMS_FILE_DIR:
# no real SMS provider is configured yet.
SMS_BACKEND = env.str("SMS_BACKEND", default="ventanilla.notifications.sms_backends.FileSmsBackend")
SMS_FILE_DIR = Path(env.str("SMS_FILE_DIR", default=str(VAR_DIR / "sms")))
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=8)

# The identity video call.
MEETING_PROVIDER = env.str("MEETING_PROVIDER", default="jitsi")
JITSI_BASE_URL = env.str("JITSI_BASE_URL", default="https://meet.jit.si").rstrip("/")
CALL_DURATION_MINUTES = env.int("CALL_DURATION_MINUTES", default=30)
# The citizen may change or cancel the booked call until this many hours before it; the
# booking page offers no slot that starts sooner.
CALL_CHANGE_CUTOFF_HOURS = env.int("CALL_CHANGE_CUTOFF_HOURS", default=12)
# How many days ahead the booking page offers the published slots.
CALL_BOOKING_DAYS = env.int("CALL_BOOKING_DAYS", default=28)
# A self-hosted Jitsi with token authentication: links carry a JWT signed with this secret.
JITSI_APP_ID = env.str("JITSI_APP_ID", default="")
JITSI_APP_SECRET = env.str("JITSI_APP_SECRET", default="")
if JITSI_APP_SECRET and not JITSI_APP_ID:
    raise ImproperlyConfigured("JITSI_APP_SECRET is set: set JITSI_APP_ID too (Prosody's app_id).")
# Google Meet (MEETING_PROVIDER=google_meet): a service account with domain-wide delegation
# creates the spaces as GOOGLE_MEET_ORGANIZER (docs/video-calls.md).
GOOGLE_MEET_CREDENTIALS_FILE = env.str("GOOGLE_MEET_CREDENTIALS_FILE", default="")
GOOGLE_MEET_ORGANIZER = env.str("GOOGLE_MEET_ORGANIZER", default="")
GOOGLE_MEET_ACCESS_TYPE = env.str("GOOGLE_MEET_ACCESS_TYPE", default="TRUSTED")
GOOGLE_MEET_API_URL = env.str("GOOGLE_MEET_API_URL", default="https://meet.googleapis.com/v2")
GOOGLE_OAUTH_TOKEN_URL = env.str(
    "GOOGLE_OAUTH_TOKEN_URL", default="https://oauth2.googleapis.com/token"
)
GOOGLE_MEET_TIMEOUT_SECONDS = env.int("GOOGLE_MEET_TIMEOUT_SECONDS", default=15)
if GOOGLE_MEET_ACCESS_TYPE not in ("OPEN", "TRUSTED", "RESTRICTED"):
    raise ImproperlyConfigured(
        "GOOGLE_MEET_ACCESS_TYPE must be OPEN, TRUSTED or RESTRICTED, "
        f"not {GOOGLE_MEET_ACCESS_TYPE!r}."
    )
if MEETING_PROVIDER == "google_meet" and not (
    GOOGLE_MEET_CREDENTIALS_FILE
    and Path(GOOGLE_MEET_CREDENTIALS_FILE).is_file()
    and GOOGLE_MEET_ORGANIZER
):
    raise ImproperlyConfigured(
        "MEETING_PROVIDER=google_meet needs GOOGLE_MEET_CREDENTIALS_FILE (the service account's "
        "JSON key, an existing file; now "
        f"{GOOGLE_MEET_CREDENTIALS_FILE or 'unset'}) and GOOGLE_MEET_ORGANIZER (the Workspace "
        f"user the meetings are created as; now {GOOGLE_MEET_ORGANIZER or 'unset'}). Set both, "
        "or use MEETING_PROVIDER=jitsi (see .env.example and docs/video-calls.md)."
    )

# Automated verification (ventanilla/checks; docs/checks.md).
# The Whisper model in CTranslate2 format; `make setup` assembles the default one.
WHISPER_MODEL_DIR = Path(
    env.str("WHISPER_MODEL_DIR", default=str(VAR_DIR / "models" / "whisper-base"))
)
# CPU threads for transcription (the rest of the checks run beside it).
CHECK_THREADS = env.int("CHECK_THREADS", default=2)
# PEM certificates of the accredited certification entities' roots (and intermediates).
SIGNATURE_TRUST_ROOTS_DIR = Path(
    env.str("SIGNATURE_TRUST_ROOTS_DIR", default=str(VAR_DIR / "trust" / "roots"))
)
# Certificate revocation lists (DER or PEM) refreshed by the operator; empty = no CRL check.
SIGNATURE_CRL_DIR = Path(env.str("SIGNATURE_CRL_DIR", default=str(VAR_DIR / "trust" / "crls")))

# The procedure.
REVIEW_WORKING_DAYS = env.int("REVIEW_WORKING_DAYS", default=3)
CORRECTION_LINK_DAYS = env.int("CORRECTION_LINK_DAYS", default=15)
# Days the "this was not me" link sent to the previous email and phone stays valid.
CONTACT_CHANGE_REPORT_DAYS = env.int("CONTACT_CHANGE_REPORT_DAYS", default=7)
# A case under review is "at risk" this many hours before its deadline: queue filter,
# supervisors' dashboard and alert emails.
STAFF_AT_RISK_HOURS = env.int("STAFF_AT_RISK_HOURS", default=24)
# A request being filled in (answers and files) is kept this long after its last change,
# and the "continue later" link sent by email is valid as long: then both are deleted.
DRAFT_RETENTION_HOURS = env.int("DRAFT_RETENTION_HOURS", default=72)
# The largest recording the web pages accept for conversion to the seed's 5 MB MP4.
VIDEO_CONVERSION_MAX_BYTES = env.int("VIDEO_CONVERSION_MAX_BYTES", default=100 * 1024 * 1024)
# The IESS foreigner code has no public format: an operator sets the pattern.
FOREIGNER_CODE_PATTERN = env.str("FOREIGNER_CODE_PATTERN", default=r"^[A-Z0-9-]{4,20}$")
PASSPORT_PATTERN = env.str("PASSPORT_PATTERN", default=r"^[A-Z0-9]{5,20}$")

# --- E. Upload hardening (docs/security.md) ---
# ClamAV's daemon, which scans every upload before it is stored (ventanilla/documents/
# scanning.py): unix:///run/clamav/clamd.ctl or tcp://host:3310. Empty = no scanning,
# which `check` warns about and `check --deploy` refuses.
CLAMAV_URL = env.str("CLAMAV_URL", default="")
# --- end E ---

# Citizens and analysts read Spanish first; English is the second language.
LANGUAGE_CODE = "es"
# Spanish unless the person picks English with the language switch (a cookie): the
# browser's language is not used, since many Ecuadorians abroad have English phones.
LANGUAGES = [("es", "Español"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "ventanilla" / "locale"]
# English dates day first with a 24-hour clock, like the Spanish ones.
FORMAT_MODULE_PATH = ["ventanilla.formats"]
TIME_ZONE = "America/Guayaquil"
USE_I18N = True
USE_TZ = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "backoffice:login"
# Without a `next`, sign-in ends on the landing page, which sends each role to a page it
# can use (an administrator has no queue).
LOGIN_REDIRECT_URL = "backoffice:home"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)

# --- D1. Abuse resistance and browser security (docs/security.md) ---
# The shared cache: rate-limit counters must be seen by every web process. Default: a
# table in the application's database (created by ventanilla/ops/migrations), so nothing
# else has to run; production may use Redis (redis://HOST:6379/1, with the `redis` package).
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://ventanilla_cache")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
    # Django's database cache, with an atomic increment that keeps the counter's expiry.
    CACHES["default"]["BACKEND"] = "ventanilla.ops.cache.CounterDatabaseCache"
    # Past this many rows Django deletes the expired ones, then a third of the rest: high,
    # so that an attacker cannot flush other counters by creating many of their own.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 1_000_000)
# django-ratelimit warns about any cache it has not tested (W001). Ours is shared by every
# process (a database table, or Redis) and increments atomically (CounterDatabaseCache,
# Redis INCR); a per-process or fake cache (locmem, dummy, file) still stops start-up
# with its error E003, which is not silenced.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
_RATE = re.compile(r"[1-9][0-9]*/([1-9][0-9]*)?[smhd]")


def _rate(name: str, value: str) -> str:
    value = value.strip()
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 5/6h (five per six hours), 30/h or 10/m, not {value!r}."
        )
    return value


# Attempts without signing in (ventanilla/ops/ratelimits.py), per client address (which
# TRUSTED_PROXIES decides) and per ID number, case number or email address. Strict
# defaults; settings/dev.py loosens them for `make run`. Login.gov: 5 document attempts
# per 6 hours.
RATE_LIMIT_SUBMISSIONS_PER_CLIENT = _rate(
    "RATE_LIMIT_SUBMISSIONS_PER_CLIENT",
    env.str("RATE_LIMIT_SUBMISSIONS_PER_CLIENT", default="10/h"),
)
RATE_LIMIT_SUBMISSIONS_PER_ID = _rate(
    "RATE_LIMIT_SUBMISSIONS_PER_ID", env.str("RATE_LIMIT_SUBMISSIONS_PER_ID", default="5/6h")
)
RATE_LIMIT_LOOKUPS_PER_CLIENT = _rate(
    "RATE_LIMIT_LOOKUPS_PER_CLIENT", env.str("RATE_LIMIT_LOOKUPS_PER_CLIENT", default="30/h")
)
RATE_LIMIT_LOOKUPS_PER_CASE = _rate(
    "RATE_LIMIT_LOOKUPS_PER_CASE", env.str("RATE_LIMIT_LOOKUPS_PER_CASE", default="10/h")
)
RATE_LIMIT_CORRECTIONS_PER_CLIENT = _rate(
    "RATE_LIMIT_CORRECTIONS_PER_CLIENT",
    env.str("RATE_LIMIT_CORRECTIONS_PER_CLIENT", default="10/h"),
)
RATE_LIMIT_EMAILS_PER_CLIENT = _rate(
    "RATE_LIMIT_EMAILS_PER_CLIENT", env.str("RATE_LIMIT_EMAILS_PER_CLIENT", default="10/h")
)
RATE_LIMIT_EMAILS_PER_ADDRESS = _rate(
    "RATE_LIMIT_EMAILS_PER_ADDRESS", env.str("RATE_LIMIT_EMAILS_PER_ADDRESS", default="3/h")
)
RATE_LIMIT_COMPLAINTS_PER_CLIENT = _rate(
    "RATE_LIMIT_COMPLAINTS_PER_CLIENT",
    env.str("RATE_LIMIT_COMPLAINTS_PER_CLIENT", default="5/h"),
)
# Content-Security-Policy of every page: scripts, styles, fonts and images from this site
# only, no inline script or style, never framed. A view that serves a file sets its own.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    # data: the empty favicon; blob: the camera's photo and recording previews.
    "img-src": [CSP.SELF, "data:", "blob:"],
    "media-src": [CSP.SELF, "blob:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "object-src": [CSP.NONE],
}
# --- end D1 ---


def _positive(name: str, value: int) -> int:
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be a positive whole number, not {value}.")
    return value


# Staff sign-in (ventanilla/staff/SIGN_IN.md): password, then a TOTP code (django-otp); wrong
# passwords and wrong codes count together towards a lock-out of that username from
# that address (django-axes); a session idle too long is signed out.
AXES_ENABLED = True
AXES_FAILURE_LIMIT = _positive("AXES_FAILURE_LIMIT", env.int("AXES_FAILURE_LIMIT", default=5))
AXES_COOLOFF_TIME = dt.timedelta(
    minutes=_positive("AXES_COOLOFF_MINUTES", env.int("AXES_COOLOFF_MINUTES", default=15))
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "ventanilla.staff.lockout.lockout_response"
# Attempts are cleared only once both factors passed (ventanilla/staff/services.py), so
# that a known password does not reset the count of wrong codes.
AXES_RESET_ON_SUCCESS = False
# The lock ends when the page says it does, even if someone keeps trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The client's address (audit trail and lock-outs; ventanilla/audit/client.py): the number
# of reverse proxies in front of the application, each appending to X-Forwarded-For. 0
# (the default) uses the connection's address and ignores the header, which a client can
# write. Set it to exactly the number of proxies: one more lets a client choose its address.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
if TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured(
        f"TRUSTED_PROXIES must be 0 or the number of proxies in front, not {TRUSTED_PROXIES}."
    )
AXES_CLIENT_IP_CALLABLE = "ventanilla.audit.client.client_ip"
OTP_TOTP_ISSUER = "IESS Ventanilla"
STAFF_IDLE_TIMEOUT_SECONDS = _positive(
    "STAFF_IDLE_TIMEOUT_SECONDS", env.int("STAFF_IDLE_TIMEOUT_SECONDS", default=1800)
)
# Staff API tokens (docs/security.md, D2): days a new token works before it expires.
API_TOKEN_DAYS = _positive("API_TOKEN_DAYS", env.int("API_TOKEN_DAYS", default=90))
# Passkeys (WebAuthn) as a second factor (ventanilla/staff/SIGN_IN.md). The relying party is
# the site's host name (browsers refuse an IP address: use http://localhost:8000 locally);
# every origin must be that host or one of its subdomains.
WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default=urlsplit(SITE_URL).hostname or "localhost")
WEBAUTHN_RP_NAME = env.str("WEBAUTHN_RP_NAME", default="IESS Ventanilla")
WEBAUTHN_ORIGINS = [o.rstrip("/") for o in env.list("WEBAUTHN_ORIGINS", default=[SITE_URL])]
for _origin in WEBAUTHN_ORIGINS:
    _host = urlsplit(_origin).hostname or ""
    if _host != WEBAUTHN_RP_ID and not _host.endswith(f".{WEBAUTHN_RP_ID}"):
        raise ImproperlyConfigured(
            f"WEBAUTHN_ORIGINS: {_origin!r} is not on WEBAUTHN_RP_ID {WEBAUTHN_RP_ID!r} "
            "(nor a subdomain of it); browsers would refuse every passkey."
        )

# --- B. Retention (docs/security.md) ---
# Days each kind of file is kept after the case's final decision (LOPDP art. 10 i: deletion
# periods fixed in advance); then the scheduler (or `manage.py purge_expired_files`) deletes
# it and keeps only its SHA-256, size and format beside the decision. Face and voice
# (biometric, sensitive) the shortest; the check evidence cut from the files (face crops,
# the signature crop) and the face encodings go with the shortest period of all.
RETENTION_ID_DOCUMENT_DAYS = _positive(
    "RETENTION_ID_DOCUMENT_DAYS", env.int("RETENTION_ID_DOCUMENT_DAYS", default=180)
)
RETENTION_SELFIE_DAYS = _positive(
    "RETENTION_SELFIE_DAYS", env.int("RETENTION_SELFIE_DAYS", default=90)
)
RETENTION_VIDEO_DAYS = _positive(
    "RETENTION_VIDEO_DAYS", env.int("RETENTION_VIDEO_DAYS", default=90)
)
RETENTION_REQUEST_FORM_DAYS = _positive(
    "RETENTION_REQUEST_FORM_DAYS", env.int("RETENTION_REQUEST_FORM_DAYS", default=365)
)
# --- end B ---

# One line per record: `plain` text for a terminal, or `json` objects (time, level,
# logger, message, request_id, case) for a log collector; production defaults to json.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = logging_config(LOG_FORMAT, env.str("LOG_LEVEL", default="INFO"))
# The bearer token Prometheus sends to GET /metrics; empty: the endpoint answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
