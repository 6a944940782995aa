"""Where each audit event comes from, filled in one place for every request."""

from .client import current_client, request_client

REQUEST_ID_HEADER = "X-Request-ID"


class AuditClientMiddleware:
    """Keeps the request's client (address, browser, request id) in a context variable
    while the request is served, for `audit_log` to record with every event. The id is
    also sent back in a response header, so that a staff member reporting a problem can
    quote it and the auditor can find the events of that one request.

    After the authentication middleware and before any middleware that writes events
    (the idle sign-out)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        client = request_client(request)
        # Also on the request: Django logs 4xx/5xx responses (logger django.request) after
        # this middleware has returned, with the request in the record (ventanilla/ops/logging.py).
        request.request_id = client.request_id
        token = current_client.set(client)
        try:
            response = self.get_response(request)
        finally:
            current_client.reset(token)
        response[REQUEST_ID_HEADER] = client.request_id
        return response
