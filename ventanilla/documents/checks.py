"""System checks for upload scanning: production must scan every upload."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .scanning import scanner_client, scanning_enabled

_HINT = (
    "Set CLAMAV_URL to clamd's socket (unix:///run/clamav/clamd.ctl or tcp://host:3310); "
    "see .env.example and docs/security.md."
)


@checks.register(checks.Tags.security)
def clamav_configured(app_configs=None, **kwargs):
    """Off is allowed while developing, with a warning; a malformed URL never is."""
    if not scanning_enabled():
        return [
            checks.Warning(
                "CLAMAV_URL is empty: uploads are not scanned for viruses.",
                hint=_HINT,
                id="documents.W001",
            )
        ]
    try:
        scanner_client()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), hint=_HINT, id="documents.E002")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def clamav_required_in_production(app_configs=None, **kwargs):
    if getattr(settings, "CLAMAV_URL", ""):
        return []
    return [
        checks.Error(
            "CLAMAV_URL is empty: a production server must scan every upload for viruses.",
            hint=_HINT,
            id="documents.E001",
        )
    ]
