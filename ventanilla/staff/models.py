from django.conf import settings
from django.db import models
from django_otp.models import Device, TimestampMixin


class ApiToken(models.Model):
    """A bearer token for the staff API. Only its SHA-256 is stored (the key is 256 random
    bits: no slow hash needed, and the unique index finds it). A token acts within its
    scope AND its owner's current role, until it expires or is revoked."""

    class Scope(models.TextChoices):
        READ = "read", "Lectura (cola, trámites, registro)"
        DECIDE = "decide", "Lectura y decisiones sobre los trámites"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    scope = models.CharField(max_length=16, choices=Scope.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"


class PasskeyDevice(TimestampMixin, Device):
    """A passkey (WebAuthn credential) a staff member registered as a second factor: the
    browser proves possession of the private key, kept on the person's device; we keep the
    public key. A django-otp device, so that a passkey sign-in marks the session verified
    like a code does (``django_otp.login``). The name is the one the person chose
    ("Llave del portátil")."""

    credential_id = models.BinaryField(unique=True)
    # The COSE-encoded public key, as the authenticator sent it at registration.
    public_key = models.BinaryField()
    # The authenticator's signature counter: a value that does not grow betrays a clone
    # (0 forever for authenticators that keep no counter, such as synced passkeys).
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    aaguid = models.CharField(max_length=36, blank=True)

    class Meta(Device.Meta):
        verbose_name = "llave de acceso"
        verbose_name_plural = "llaves de acceso"

    def verify_token(self, token) -> bool:
        # Not a code device: a passkey is verified by ventanilla.staff.services.passkey_sign_in.
        return False
