"""The auditor's search of the audit trail: every view of a file, every decision, every
sign-in; filters, newest first, pages without a COUNT, and an audited CSV export."""

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ventanilla.audit.models import AuditEvent
from ventanilla.audit.services import audit_log
from ventanilla.backoffice.file_links import file_url, session_binding
from ventanilla.cases.services import case_mark_checked
from ventanilla.testing.factories import (
    documents_scan,
    submission_fields,
    submission_files,
    submit_request,
)
from ventanilla.testing.staff import staff_login

pytestmark = pytest.mark.django_db

ECUADOR = ZoneInfo("America/Guayaquil")
URL = "/gestion/auditoria/"
EXPORT = "/gestion/auditoria/exportar/"


@pytest.fixture
def case():
    fields = submission_fields(0)
    case = submit_request(fields, submission_files(fields))
    documents_scan(case)  # the checks' antivirus: staff may open the files
    return case_mark_checked(case_id=case.pk)


def _rows(html: str) -> list[str]:
    table = html.split('id="audit-results"')[1].split("</table>")[0]
    return [chunk.split("</tr>")[0] for chunk in table.split("<tr data-event=")[1:]]


def test_the_auditor_finds_every_view_of_a_file(client, case, analyst, auditor):
    selfie = case.documents.get(kind="selfie")
    video = case.documents.get(kind="video")
    staff_login(client, analyst)
    for doc in (selfie, video, selfie):
        binding = session_binding(client.session.session_key)
        response = client.get(file_url(case=case, obj=doc, user=analyst, binding=binding))
        assert response.status_code == 200
        response.getvalue()
    client.get(f"/gestion/tramites/{case.number}/")  # a case view is not a file view

    client.logout()
    staff_login(client, auditor)
    html = client.get(
        URL, {"accion": "group:files", "tramite": case.number.lower()}
    ).content.decode()

    rows = _rows(html)
    assert len(rows) == 3
    assert all(analyst.username in row for row in rows)
    assert all(f'href="/gestion/tramites/{case.number}/"' in row for row in rows)
    assert f"Archivo del trámite {selfie.pk}" in rows[0]  # newest first: the second selfie view
    assert f"Archivo del trámite {video.pk}" in rows[1]
    # The summary's order follows the database's JSON (PostgreSQL's jsonb sorts keys).
    assert all(part in rows[0] for part in ("kind: selfie", "version: 1", "sha256: "))
    assert "Vio o descargó un archivo del trámite" in rows[0]

    # The same search, narrowed to one file.
    html = client.get(
        URL, {"objeto": "documents.document", "objeto_id": str(video.pk)}
    ).content.decode()
    assert len(_rows(html)) == 1


def test_filters_by_person_action_days_and_sign_ins(client, case, analyst, supervisor, auditor):
    older = audit_log(action="case.viewed", actor=supervisor, case=case, obj=case)
    AuditEvent.objects.filter(pk=older.pk).update(
        at=dt.datetime(2026, 3, 2, 23, 30, tzinfo=ECUADOR)
    )
    audit_log(action="case.viewed", actor=analyst, case=case, obj=case)
    audit_log(
        action="staff.signed_in",
        actor=analyst,
        new={"username": analyst.username, "client_ref": "ab12cd34ef56aa77", "user_agent": "Firefox/140.0", "method": "totp"},
    )  # fmt: skip
    staff_login(client, auditor)

    by_person = _rows(client.get(URL, {"usuario": "SOFIA.supervisora"}).content.decode())
    assert len(by_person) == 1 and "2026-03-02 23:30" in by_person[0]

    # 23:30 in Quito on 2 March is already 3 March in UTC: days are Ecuador's.
    on_the_day = {"desde": "2026-03-02", "hasta": "2026-03-02", "accion": "case.viewed"}
    assert len(_rows(client.get(URL, on_the_day).content.decode())) == 1
    after = {"desde": "2026-03-03", "accion": "case.viewed"}
    assert [analyst.username in r for r in _rows(client.get(URL, after).content.decode())] == [True]

    [sign_in] = _rows(client.get(URL, {"accion": "group:sign_ins"}).content.decode())
    assert "Ingresó al sistema" in sign_in
    assert "ref. de dirección ab12cd34ef56" in sign_in and "Firefox/140.0" in sign_in

    decisions = client.get(URL, {"accion": "group:decisions"}).content.decode()
    assert "Ningún evento cumple estos filtros." in decisions  # the checks are the system's


def test_clear_messages_for_a_bad_case_number_and_reversed_days(client, auditor):
    staff_login(client, auditor)
    html = client.get(URL, {"tramite": "VV-2026-000001-0"}).content.decode()
    assert "«VV-2026-000001-0» no es un número de trámite válido" in html
    assert 'id="audit-results"' not in html

    html = client.get(URL, {"desde": "2026-05-02", "hasta": "2026-05-01"}).content.decode()
    assert "es posterior a «Hasta» (2026-05-01): inviértalas." in html


def test_pages_follow_newest_first_without_counting(client, case, analyst, auditor):
    for i in range(120):
        audit_log(action="case.viewed", actor=analyst, case=case, obj=case, reason=f"vista {i:03d}")
    staff_login(client, auditor)
    params = {"accion": "case.viewed", "usuario": analyst.username}

    seen, url, pages, query_counts = [], URL, 0, []
    while url:
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url, params if pages == 0 else None).content.decode()
        query_counts.append(len(queries))
        assert not any("COUNT(" in q["sql"].upper() for q in queries)
        seen += [row.split("Motivo:")[1].split("<")[0].strip() for row in _rows(html)]
        pages += 1
        url = (
            html.split('id="next-page" href="')[1].split('"')[0].replace("&amp;", "&")
            if 'id="next-page"' in html
            else ""
        )

    assert pages == 3
    assert seen == [f"vista {i:03d}" for i in range(119, -1, -1)]
    assert len(set(query_counts)) == 1


def test_the_export_is_a_csv_of_the_filtered_events_and_is_audited(client, case, analyst, auditor):
    audit_log(action="case.viewed", actor=analyst, case=case, obj=case, reason="=HYPERLINK(1)")
    audit_log(action="registry.viewed", actor=analyst)
    staff_login(client, auditor)

    response = client.get(EXPORT, {"accion": "case.viewed", "tramite": case.number})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="auditoria-')
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(body)))
    assert header[:4] == ["Fecha y hora (Ecuador)", "Usuario", "Origen", "Acción"]
    assert [row[3] for row in rows] == ["case.viewed"]
    assert rows[0][1] == analyst.username and rows[0][5] == case.number
    assert rows[0][header.index("Motivo")] == "'=HYPERLINK(1)"  # a spreadsheet will not run it
    assert header[-3:] == ["Dirección IP", "Navegador (User-Agent)", "Solicitud"]
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.actor == auditor
    assert exported.new_value == {"filters": {"action": "case.viewed", "case_number": case.number}}


@pytest.mark.parametrize(
    ("persona", "status"),
    [("auditor", 200), ("supervisor", 200), ("analyst", 403), ("outsider", 403)],
)
def test_who_may_search_and_export(client, request, persona, status):
    staff_login(client, request.getfixturevalue(persona))
    assert client.get(URL).status_code == status
    assert client.get(EXPORT).status_code == status
    assert AuditEvent.objects.filter(action="audit.exported").count() == (status == 200)


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    for url in (URL, EXPORT):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/gestion/ingresar/")
