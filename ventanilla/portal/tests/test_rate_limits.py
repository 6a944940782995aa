"""Rate limits on submissions, status look-ups, corrections and "continue later" emails
(ventanilla/ops/ratelimits.py): per client address and per ID number, case number or email
address, counted in the real database cache; the refusal is a 429 that says how long to
wait and tells nothing about whether an ID or a case exists."""

import re
import time
import types

import django_ratelimit.core
import pytest
from django.core.cache import cache
from django.urls import reverse

from ventanilla.drafts import services as drafts
from ventanilla.drafts.models import RequestDraft
from ventanilla.portal.request_views import SESSION_DRAFT
from ventanilla.testing.factories import submission_fields, submission_files, submit_request

pytestmark = pytest.mark.django_db

API_CASES = "/api/v1/cases"
# A valid cédula nobody in the tests uses.
UNKNOWN_ID = "1710034065"
CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture(autouse=True)
def small_limits(settings):
    """Small limits, and counters that start at zero and leak into no other test."""
    settings.RATE_LIMIT_SUBMISSIONS_PER_CLIENT = "8/h"
    settings.RATE_LIMIT_SUBMISSIONS_PER_ID = "3/6h"
    settings.RATE_LIMIT_LOOKUPS_PER_CLIENT = "6/h"
    settings.RATE_LIMIT_LOOKUPS_PER_CASE = "4/h"
    settings.RATE_LIMIT_CORRECTIONS_PER_CLIENT = "2/h"
    settings.RATE_LIMIT_EMAILS_PER_CLIENT = "5/h"
    settings.RATE_LIMIT_EMAILS_PER_ADDRESS = "2/h"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen_clock(monkeypatch):
    """django-ratelimit's clock stopped, so that two refusals can be compared to the byte
    (Retry-After counts the seconds left)."""
    now = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: now))


def _headers(response) -> dict:
    """The response's headers but the request id, which is random for every request."""
    return {k: v for k, v in response.headers.items() if k != "X-Request-ID"}


def _address(n: int) -> dict:
    return {"REMOTE_ADDR": f"198.51.100.{n}"}


def _draft_in_session(client, id_number: str) -> RequestDraft:
    draft = drafts.draft_start()
    drafts.draft_save_answers(
        draft=draft,
        step="identificacion",
        answers={"id_type": "cedula", "id_number": id_number},
        complete=True,
    )
    session = client.session
    session[SESSION_DRAFT] = str(draft.public_id)
    session.save()
    return draft


def _assert_refusal_page(response) -> str:
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 6 * 3600
    page = response.content.decode()
    assert "Demasiados intentos en poco tiempo" in page
    assert "No se perdió nada" in page
    return page


def test_the_final_submit_is_limited_per_id_number_whatever_the_address(client):
    draft = _draft_in_session(client, "171003406-5")
    review = reverse("portal:request_review")
    # Three attempts (the draft is incomplete: the page lists what is missing) from three
    # addresses use up the ID's three; spelling the number differently changes nothing.
    for n in range(3):
        response = client.post(review, {"declaration": "on"}, **_address(n))
        assert response.status_code == 422
    _draft_in_session(client, UNKNOWN_ID)
    response = client.post(review, {"declaration": "on"}, **_address(9))
    page = _assert_refusal_page(response)
    assert "su solicitud, con sus respuestas y archivos, sigue guardada" in page
    assert 'href="/tramite/nuevo/revision/"' in page
    # Nothing was lost: both drafts are still there, untouched.
    assert RequestDraft.objects.filter(pk=draft.pk).exists()
    assert RequestDraft.objects.count() == 2
    # Another ID from the same address is not affected.
    _draft_in_session(client, "0926687856")
    assert client.post(review, {"declaration": "on"}, **_address(9)).status_code == 422


def test_the_final_submit_is_limited_per_address(client, settings):
    settings.RATE_LIMIT_SUBMISSIONS_PER_CLIENT = "2/h"
    review = reverse("portal:request_review")
    for id_number in ("1710034065", "0926687856"):
        _draft_in_session(client, id_number)
        assert client.post(review, {"declaration": "on"}, **_address(1)).status_code == 422
    _draft_in_session(client, "1713175071")
    _assert_refusal_page(client.post(review, {"declaration": "on"}, **_address(1)))
    # Looking at the page is not an attempt.
    assert client.get(review, **_address(1)).status_code == 200


def test_the_api_refuses_the_same_way_whether_or_not_the_id_has_a_case(client, frozen_clock):
    """Both the per-ID counter and its refusal ignore the registry and the cases: the
    same attempts on the same ID number get the same answer, byte for byte, before and
    after that ID has a case."""

    def attempts() -> list:
        cache.clear()
        return [
            client.post(API_CASES, {"id_number": fields["id_number"]}, **_address(n))
            for n in range(4)
        ]

    fields = submission_fields()
    without_case = attempts()
    submit_request(fields, submission_files(fields))
    with_case = attempts()

    assert [r.status_code for r in without_case] == [422, 422, 422, 429]
    for before, after in zip(without_case, with_case, strict=True):
        assert before.status_code == after.status_code
        assert before.content == after.content
        assert _headers(before) == _headers(after)
    refusal = with_case[-1]
    assert refusal["Content-Type"] == "application/json"
    assert int(refusal["Retry-After"]) > 0
    detail = refusal.json()["detail"]
    assert detail.startswith("Hubo demasiados intentos en poco tiempo.")
    assert "no se guardó ni se perdió nada" in detail


def test_a_status_look_up_refusal_does_not_tell_a_right_id_from_a_wrong_one(client, frozen_clock):
    fields = submission_fields()
    case = submit_request(fields, submission_files(fields))
    url = f"{API_CASES}/{case.number}"

    def attempts(id_number: str) -> list:
        cache.clear()
        return [client.get(url, {"id_number": id_number}, **_address(n)) for n in range(5)]

    right, wrong = attempts(fields["id_number"]), attempts(UNKNOWN_ID)
    assert [r.status_code for r in right] == [200, 200, 200, 200, 429]
    assert [r.status_code for r in wrong] == [404, 404, 404, 404, 429]
    assert right[-1].content == wrong[-1].content
    assert _headers(right[-1]) == _headers(wrong[-1])


def test_the_status_page_is_limited_per_address_and_per_case_number(client):
    url = reverse("portal:status")
    lookup = {"number": "VV-2026-000123-K", "id_number": UNKNOWN_ID}
    for n in range(4):
        assert client.post(url, lookup, **_address(n)).status_code in (200, 404)
    # The fifth look-up of that case number, from anywhere, is refused ...
    page = _assert_refusal_page(client.post(url, lookup, **_address(50)))
    assert "vuelva a consultarlo" in page
    # ... another number is not, until this address has used its six.
    other = {**lookup, "number": "VV-2026-000124-J"}
    assert client.post(url, other, **_address(50)).status_code in (200, 404)
    for n in range(4):
        number = {**lookup, "number": f"VV-2026-00020{n}-A"}
        assert client.post(url, number, **_address(50)).status_code in (200, 404)
    _assert_refusal_page(client.post(url, {**lookup, "number": "VV-2026-000300-B"}, **_address(50)))
    assert client.get(url, **_address(50)).status_code == 200  # the form itself is free


def test_the_refusal_page_is_the_same_for_a_case_that_exists_and_one_that_does_not(
    client, frozen_clock
):
    fields = submission_fields()
    case = submit_request(fields, submission_files(fields))
    url = reverse("portal:status")

    def refusal(id_number: str):
        cache.clear()
        for n in range(4):
            client.post(url, {"number": case.number, "id_number": id_number}, **_address(n))
        return client.post(url, {"number": case.number, "id_number": id_number}, **_address(9))

    right, wrong = refusal(fields["id_number"]), refusal(UNKNOWN_ID)
    assert right.status_code == wrong.status_code == 429
    # The pages differ only in the CSRF token of the language switch, which is random.
    assert CSRF_VALUE.sub("", right.content.decode()) == CSRF_VALUE.sub("", wrong.content.decode())
    assert _headers(right) == _headers(wrong)


def test_a_forwarded_for_header_counts_only_behind_trusted_proxies(client, settings):
    url = reverse("portal:status")
    settings.RATE_LIMIT_LOOKUPS_PER_CASE = "100/h"

    def look_up(forwarded_for: str):
        return client.post(
            url,
            {"number": "VV-2026-000123-K", "id_number": UNKNOWN_ID},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )

    # No proxy: the header is the client's own writing and changes nothing.
    statuses = [look_up(f"203.0.113.{n}").status_code for n in range(7)]
    assert statuses[-1] == 429 and 429 not in statuses[:6]
    # One proxy in front: the address it saw is the client's, counted apart.
    cache.clear()
    settings.TRUSTED_PROXIES = 1
    assert all(look_up(f"203.0.113.{n}").status_code != 429 for n in range(12))


def test_ipv6_clients_are_counted_by_their_64_network(client):
    url = reverse("portal:status")
    lookup = {"number": "VV-2026-000123-K", "id_number": UNKNOWN_ID}
    statuses = [
        client.post(
            url, {**lookup, "number": f"VV-2026-00012{n}-K"}, REMOTE_ADDR=f"2001:db8:1:2::{n}"
        ).status_code
        for n in range(7)
    ]
    assert statuses[-1] == 429 and 429 not in statuses[:6]


def test_continue_later_emails_are_limited_per_recipient(client):
    url = reverse("portal:request_save")
    for n in range(2):
        _draft_in_session(client, UNKNOWN_ID)
        response = client.post(url, {"email": "Maria.Quispe@example.com"}, **_address(n))
        assert response.status_code == 200
    _draft_in_session(client, UNKNOWN_ID)
    page = _assert_refusal_page(
        client.post(url, {"email": "maria.quispe@example.com"}, **_address(7))
    )
    assert "sus respuestas y archivos siguen guardados" in page
    assert client.session.get(SESSION_DRAFT)  # the browser keeps its draft


def test_correction_uploads_are_limited_per_address(client):
    url = reverse("portal:correction", args=["no-such-link"])
    assert [client.post(url, **_address(1)).status_code for _ in range(3)] == [404, 404, 429]
    # Opening the page is not an upload.
    assert client.get(url, **_address(1)).status_code == 404
