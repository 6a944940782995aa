"""The production settings (ventanilla/settings/production.py) pass Django's deployment
checklist, `manage.py check --deploy`, with warnings counted as failures; and the rate
limits read from the environment are checked when the settings load."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _environment(settings_module: str, **overrides: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "RATE_LIMIT_", "DEBUG", "CACHE_URL"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings_module,
            # What production must set: a long random secret, the files' master key, the
            # virus scanner (docs/security.md) and the host name.
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FILE_ENCRYPTION_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "CLAMAV_URL": "unix:///run/clamav/clamd.ctl",
            "ALLOWED_HOSTS": "ventanilla.iess.gob.ec",
            "SITE_URL": "https://ventanilla.iess.gob.ec",
        }
    )
    env.update(overrides)
    return env


def _manage(*args: str, settings_module="ventanilla.settings.production", **overrides: str):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_environment(settings_module, **overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_production_settings_pass_the_deployment_checklist():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_checklist_fails_when_a_secure_default_is_turned_off():
    # The check above could not pass by accident: switching HTTPS off is caught.
    result = _manage("check", "--deploy", "--fail-level", "WARNING", SECURE_SSL_REDIRECT="false")
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


def test_the_production_settings_send_hsts_csp_and_secure_cookies():
    script = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.X_FRAME_OPTIONS, "
        "*s.SECURE_CSP['frame-ancestors'], *s.SECURE_CSP['script-src'], "
        "s.RATE_LIMIT_SUBMISSIONS_PER_ID, s.SECURE_PROXY_SSL_HEADER)"
    )
    result = _manage("shell", "-c", script, TRUSTED_PROXIES="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == (
        "True True True 31536000 True DENY 'none' 'self' 5/6h ('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_the_demo_allows_a_person_to_try_freely():
    # docs: `make run` allows at least 100 submissions and 300 status look-ups an hour.
    script = (
        "from django.conf import settings as s; "
        "print(s.RATE_LIMIT_SUBMISSIONS_PER_CLIENT, s.RATE_LIMIT_SUBMISSIONS_PER_ID, "
        "s.RATE_LIMIT_LOOKUPS_PER_CLIENT, s.RATE_LIMIT_LOOKUPS_PER_CASE)"
    )
    result = _manage("shell", "-c", script, settings_module="ventanilla.settings.dev")
    assert result.returncode == 0, result.stderr
    rates = result.stdout.split("\n")[-2].split()
    per_hour = [int(rate.removesuffix("/h")) for rate in rates]
    assert per_hour[0] >= 100 and per_hour[1] >= 100
    assert per_hour[2] >= 300 and per_hour[3] >= 300


def test_a_malformed_rate_stops_start_up_with_a_clear_message():
    result = _manage("check", RATE_LIMIT_SUBMISSIONS_PER_ID="cinco por hora")
    assert result.returncode != 0
    assert "RATE_LIMIT_SUBMISSIONS_PER_ID must be a rate such as 5/6h" in result.stderr


def test_a_cache_private_to_each_process_stops_start_up():
    # Each web process would count alone: a client would get N times the limit.
    result = _manage("check", CACHE_URL="locmemcache://")
    assert result.returncode != 0
    assert "django_ratelimit.E003" in result.stderr
