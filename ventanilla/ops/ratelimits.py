"""Rate limits on what anyone can do without signing in: submit a request, look up a
case, upload a correction, ask for the "continue later" email.

Each limit is a setting read from the environment (settings/base.py: strict production
defaults; settings/dev.py loosens them for `make run`). The counters live in the shared
cache (CACHES, from CACHE_URL) through django-ratelimit, one counter per limit and key:
the client's address (an IPv6 client by its /64 network, which one home usually holds)
and, where the attempt names one, the ID number, case number or email address. Those
keys are counted as given, keyed by an HMAC so the cache holds no ID numbers, and before
anything is looked up: an attempt counts the same whether or not the ID or the case
exists, and the refusal is the same, so that it tells nobody whether an ID has a case.

A refused attempt is answered 429 with Retry-After, before the view runs: nothing is
stored and nothing is lost (the draft stays as it was).
"""

import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, ngettext
from django_ratelimit.core import get_usage

from ventanilla.audit.client import client_ip

# When the counter cannot be read (the cache is down) django-ratelimit refuses without a
# window: ask the client to come back in a minute.
UNKNOWN_WAIT_SECONDS = 60


@dataclass(frozen=True)
class Limit:
    """One counter: `setting` names the rate ("5/6h": five per six hours)."""

    name: str
    setting: str

    @property
    def rate(self) -> str:
        return getattr(settings, self.setting)


SUBMISSIONS_PER_CLIENT = Limit("submissions-client", "RATE_LIMIT_SUBMISSIONS_PER_CLIENT")
SUBMISSIONS_PER_ID = Limit("submissions-id", "RATE_LIMIT_SUBMISSIONS_PER_ID")
LOOKUPS_PER_CLIENT = Limit("lookups-client", "RATE_LIMIT_LOOKUPS_PER_CLIENT")
LOOKUPS_PER_CASE = Limit("lookups-case", "RATE_LIMIT_LOOKUPS_PER_CASE")
CORRECTIONS_PER_CLIENT = Limit("corrections-client", "RATE_LIMIT_CORRECTIONS_PER_CLIENT")
EMAILS_PER_CLIENT = Limit("emails-client", "RATE_LIMIT_EMAILS_PER_CLIENT")
EMAILS_PER_ADDRESS = Limit("emails-address", "RATE_LIMIT_EMAILS_PER_ADDRESS")
COMPLAINTS_PER_CLIENT = Limit("complaints-client", "RATE_LIMIT_COMPLAINTS_PER_CLIENT")

# What a refusal page tells the person about what they were doing.
SUBMISSION = "submission"
LOOKUP = "lookup"
CORRECTION = "correction"
EMAIL = "email"

# The value an attempt is counted under, from the request and the view's arguments;
# None: this attempt names no such value and is not counted by that limit.
KeyFunction = Callable[..., str | None]


def client_key(request: HttpRequest, **view_kwargs) -> str | None:
    """The client's address (ventanilla.audit.client.client_ip, which honours
    TRUSTED_PROXIES); an IPv6 address by its /64, since one client holds a whole one."""
    address = client_ip(request)
    if address is None:
        return "unknown"
    prefix = 64 if ":" in address else 32
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def private_key(value: str | None) -> str | None:
    """An ID number, case number or email address as counted: without spaces, dots and
    dashes, in capitals, then keyed with SECRET_KEY so the cache never holds it."""
    canonical = re.sub(r"[\s.-]", "", value or "").upper()
    if not canonical:
        return None
    return salted_hmac("ventanilla.ops.ratelimits", canonical, algorithm="sha256").hexdigest()


def posted(field: str) -> KeyFunction:
    """The value of a submitted form field, as counted (private_key)."""

    def key(request: HttpRequest, **view_kwargs) -> str | None:
        return private_key(request.POST.get(field))

    return key


def view_argument(name: str) -> KeyFunction:
    """A value from the address (the view's keyword argument), as counted (private_key)."""

    def key(request: HttpRequest, **view_kwargs) -> str | None:
        return private_key(view_kwargs.get(name))

    return key


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # seconds


def attempt_count(request: HttpRequest, counted: list[tuple[Limit, str | None]]) -> Refusal | None:
    """Count one attempt against every limit that has a key, and refuse if any of them
    is over. Every counter is increased, refused or not, so that a refusal by one limit
    does not leave another one unaware of the attempt."""
    waits = []
    for limit, key in counted:
        if key is None:
            continue
        usage = get_usage(
            request,
            group=limit.name,
            key=lambda group, request, key=key: key,
            rate=limit.rate,
            increment=True,
        )
        if usage is not None and usage["should_limit"]:
            left = usage["time_left"]
            waits.append(left if left > 0 else UNKNOWN_WAIT_SECONDS)
    if not waits:
        return None
    return Refusal(retry_after=max(waits))


def wait_text(seconds: int) -> str:
    """How long to wait, in words: whole minutes up to an hour, else hours and minutes."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 60:
        return ngettext("%(n)d minuto", "%(n)d minutos", minutes) % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    text = ngettext("%(n)d hora", "%(n)d horas", hours) % {"n": hours}
    if minutes:
        text = gettext("%(hours)s y %(minutes)s") % {
            "hours": text,
            "minutes": ngettext("%(n)d minuto", "%(n)d minutos", minutes) % {"n": minutes},
        }
    return text


def refusal_message(refusal: Refusal) -> str:
    return gettext(
        "Hubo demasiados intentos en poco tiempo. Por seguridad, espere %(wait)s y vuelva a "
        "intentarlo; no se guardó ni se perdió nada."
    ) % {"wait": wait_text(refusal.retry_after)}


def refusal_page(request: HttpRequest, refusal: Refusal, *, what: str) -> HttpResponse:
    """The citizen's page: how long to wait and that nothing was lost."""
    response = render(
        request,
        "portal/rate_limited.html",
        {"what": what, "wait": wait_text(refusal.retry_after)},
        status=429,
    )
    response["Retry-After"] = str(refusal.retry_after)
    response["Cache-Control"] = "no-store"
    return response


def refusal_json(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    """The API's answer (its DetailOut shape, as for 404 and 409), in Spanish like its
    other errors."""
    with translation.override("es"):
        message = refusal_message(refusal)
    response = JsonResponse({"detail": message}, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    response["Cache-Control"] = "no-store"
    return response


# The API's OpenAPI schema: a 429 says when to come back (merged into the operation's).
OPENAPI_RETRY_AFTER = {
    "responses": {
        429: {
            "headers": {
                "Retry-After": {
                    "description": "Segundos que faltan para poder intentarlo de nuevo.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            }
        }
    }
}


def rate_limited(
    *counters: tuple[Limit, KeyFunction],
    what: str = "",
    methods: tuple[str, ...] | None = ("POST",),
    api: bool = False,
):
    """Count every request (of `methods`; None: all) against `counters`, pairs of a
    limit and the function that gives the value it counts, and answer 429 instead of
    running the view once a limit is reached: the citizen's page, or with `api` the
    API's JSON error."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if methods is None or request.method in methods:
                refusal = attempt_count(
                    request, [(limit, key(request, **kwargs)) for limit, key in counters]
                )
                if refusal is not None:
                    if api:
                        return refusal_json(request, refusal)
                    return refusal_page(request, refusal, what=what)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
