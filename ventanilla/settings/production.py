"""Production: the base settings with the browser-security switches on by default.

Selected with DJANGO_SETTINGS_MODULE=ventanilla.settings.production (manage.py and
ventanilla/wsgi.py default to the dev settings; docs/security.md, D). Each switch can
still be turned off from the environment, e.g. SECURE_SSL_REDIRECT=false behind a proxy
that already redirects; `manage.py check --deploy` then says what is missing.
"""

from .base import *  # noqa: F403
from .base import TRUSTED_PROXIES, env, logging_config

LOGGING = logging_config(
    env.str("LOG_FORMAT", default="json"), env.str("LOG_LEVEL", default="INFO")
)

# HTTPS only: redirect plain HTTP, cookies never sent over it, and browsers told to use
# HTTPS for a year (subdomains included) before they even ask.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# Behind TLS-terminating proxies (TRUSTED_PROXIES > 0) the request reaches Django over
# plain HTTP: the proxy nearest to Django must set X-Forwarded-Proto (overwriting any
# value the client sent), or every request would be redirected to itself.
if TRUSTED_PROXIES > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Static files: collectstatic writes compressed copies with hashed names, which whitenoise
# serves with a far-future cache header (docs/deployment.md). Dev and tests keep the plain
# storage, so that they need no collectstatic.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Served straight from the web process, right after SecurityMiddleware so that they get its
# headers too. Only here: elsewhere there is no collected STATIC_ROOT for it to serve (the dev
# server serves static files itself), and it would warn on every start.
MIDDLEWARE = [
    *MIDDLEWARE[:1],  # noqa: F405
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[1:],  # noqa: F405
]
