"""Who is on the other end of a request: the network address, the browser, and an id
that ties together the audit events one request writes.

The middleware (middleware.py) puts the request's client in a context variable for the
duration of the request; `audit_log` reads it, so every event written while serving a
request says where it came from, and events written by the worker or the scheduler
(no request) say nothing.
"""

import ipaddress
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings

USER_AGENT_MAX_LENGTH = 300


@dataclass(frozen=True)
class RequestClient:
    ip: str | None
    user_agent: str
    request_id: str


current_client: ContextVar[RequestClient | None] = ContextVar("audit_client", default=None)


def _address(value: str) -> str | None:
    """The address in canonical form, or None if `value` is not an IPv4 or IPv6 address."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, unless settings.TRUSTED_PROXIES says that many
    reverse proxies stand in front of the application. Each proxy appends to
    X-Forwarded-For the address it received the request from, so with N proxies the
    client is the N-th address from the right; anything left of it was written by the
    client and proves nothing. A header too short for N proxies (a request that reached
    the application some other way) or a malformed address falls back to REMOTE_ADDR.

    Also django-axes' AXES_CLIENT_IP_CALLABLE, so that lock-outs and the audit trail see
    the same address."""
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [
        part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if len(forwarded) < proxies:
        return remote
    return _address(forwarded[-proxies]) or remote


def user_agent(request) -> str:
    """The browser's User-Agent, printable characters only, cut to the column's length."""
    text = request.META.get("HTTP_USER_AGENT", "")
    return "".join(ch for ch in text if ch.isprintable())[:USER_AGENT_MAX_LENGTH]


def request_client(request) -> RequestClient:
    """The client of `request`, with a new random request id."""
    return RequestClient(
        ip=client_ip(request), user_agent=user_agent(request), request_id=uuid.uuid4().hex
    )
