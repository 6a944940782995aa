"""/transparencia/ (table, chart, definitions), its CSV and the JSON API serve the same
rows; /atencion/ gives the procedure's contact data and channels. The pages are read as
HTML and SVG documents (lxml), not as strings."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import etree, html

from ventanilla.cases.constants import CaseStatus as S
from ventanilla.complaints.services import complaint_file
from ventanilla.transparency.selectors import monthly_figures
from ventanilla.transparency.tests.test_monthly_figures import case_ended
from ventanilla.transparency.tests.test_published_history import seed_rows

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
OPEN_DATA_KEYS = ["year", "month", "complaints", "attentions"]


@pytest.fixture
def live_figures(analyst):
    """This month: one case decided, one complaint filed."""
    case_ended(S.COMPLETED, timezone.now(), analyst)
    complaint_file(
        name="Rosa Elena Chiriboga",
        email="rosa.chiriboga@example.org",
        text="Nadie me respondió el correo en dos semanas.",
    )


def page_rows(client) -> tuple[html.HtmlElement, list[tuple[int, int, int, int]]]:
    response = client.get("/transparencia/")
    assert response.status_code == 200
    document = html.fromstring(response.content)
    rows = []
    for tr in document.xpath("//table[@id='figures-table']/tbody/tr"):
        year, month = tr.get("data-month").split("-")
        complaints = tr.xpath(".//*[@data-column='complaints']")[0].text_content()
        attentions = tr.xpath(".//*[@data-column='attentions']")[0].text_content()
        rows.append((int(year), int(month), int(complaints), int(attentions)))
    return document, rows


def csv_rows(client) -> list[dict[str, str]]:
    response = client.get("/transparencia/datos.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("year,month,complaints,attentions\r\n")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_url_names_are_the_contract():
    assert reverse("portal:transparency") == "/transparencia/"
    assert reverse("portal:transparency_csv") == "/transparencia/datos.csv"
    assert reverse("portal:attention") == "/atencion/"
    assert reverse("api:transparency") == "/api/v1/transparency"


def test_page_csv_and_json_serve_the_published_history_exactly(client, live_figures):
    document, shown = page_rows(client)
    from_csv = [tuple(int(row[key]) for key in OPEN_DATA_KEYS) for row in csv_rows(client)]
    response = client.get("/api/v1/transparency")
    assert response.status_code == 200
    from_json = [tuple(row[key] for key in OPEN_DATA_KEYS) for row in response.json()]

    # The page lists the most recent month first; the downloads, the oldest first.
    assert shown[::-1] == from_csv == from_json
    assert from_csv[:28] == seed_rows()
    assert from_json == [(r.year, r.month, r.complaints, r.attentions) for r in monthly_figures()]
    # The live month carries today's case and complaint.
    assert from_json[-1][2:] == (1, 1)


def test_the_json_schema_is_exactly_four_integers(client):
    response = client.get("/api/v1/transparency")
    assert response["Content-Type"].startswith("application/json")
    assert "max-age=300" in response["Cache-Control"]
    assert "public" in response["Cache-Control"]
    rows = response.json()
    assert isinstance(rows, list)
    for row in rows:
        assert list(row) == OPEN_DATA_KEYS
        assert all(type(value) is int for value in row.values())
        assert 1 <= row["month"] <= 12
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/transparency"]["get"]
    assert "security" not in operation
    assert set(schema["components"]["schemas"]["TransparencyMonth"]["required"]) == set(
        OPEN_DATA_KEYS
    )


def test_the_csv_is_cacheable_and_the_page_is_not_public(client):
    response = client.get("/transparencia/datos.csv")
    assert "public" in response["Cache-Control"]
    assert "max-age=300" in response["Cache-Control"]
    page = client.get("/transparencia/")
    assert "public" not in page.get("Cache-Control", "")


def test_the_page_defines_its_figures_and_marks_sources_and_the_current_month(client):
    document, shown = page_rows(client)
    definitions = document.get_element_by_id("definitions").text_content()
    assert "«No fui yo»" in definitions
    assert "desistió" in definitions and "caducaron" in definitions
    assert "America/Guayaquil" in definitions
    body = document.xpath("//table[@id='figures-table']/tbody/tr")
    now = timezone.localtime()
    current = body[0]
    assert current.get("data-month") == f"{now.year}-{now.month:02d}"
    assert "en curso" in current.text_content()
    assert current.get("data-source") == "computed"
    assert body[-1].get("data-month") == "2024-01"
    assert body[-1].get("data-source") == "seed"
    assert "Historial publicado" in body[-1].text_content()
    assert sum("en curso" in tr.text_content() for tr in body) == 1
    assert document.xpath("//a[@href='/transparencia/datos.csv']")
    assert document.xpath("//a[@href='/api/v1/transparency']")


def test_the_chart_is_accessible_svg_with_both_series(client):
    document, shown = page_rows(client)
    svg_markup = etree.tostring(document.xpath("//figure/*[local-name()='svg']")[0])
    svg = etree.fromstring(svg_markup)
    assert svg.get("role") == "img"
    title = svg.find(f"{SVG}title")
    desc = svg.find(f"{SVG}desc")
    assert svg.get("aria-labelledby") == title.get("id")
    assert svg.get("aria-describedby") == desc.get("id")
    assert "Quejas y atenciones" in title.text
    assert "895" in desc.text  # the peak of attentions, September 2025
    assert "tabla" in desc.text
    # One round marker per month for attentions, one square per month for complaints.
    panels = {
        g.get("class").split("--")[-1]: g
        for g in svg.iter(f"{SVG}g")
        if "tr-panel" in (g.get("class") or "")
    }
    assert set(panels) == {"attentions", "complaints"}
    assert len(list(panels["attentions"].iter(f"{SVG}circle"))) == len(shown)
    assert len(list(panels["complaints"].iter(f"{SVG}rect"))) == len(shown)
    assert {"Atenciones", "Quejas"} <= {t.text for t in svg.iter(f"{SVG}text")}
    # Readable without colour: a different marker and line per series, and the month in course.
    assert len(list(svg.iter(f"{SVG}path"))) == 2
    assert len([e for e in svg.iter() if "tr-marker--partial" in (e.get("class") or "")]) == 2
    # The CSP forbids inline styles: none in the chart, nor on the page.
    assert not [e for e in svg.iter() if e.get("style") is not None]
    assert not document.xpath("//*[@style] | //style")
    # The caption points to the table, the full text alternative.
    assert document.xpath("//figcaption//a[@href='#figures-table']")
    assert document.xpath("//head/link[contains(@href, 'css/transparency.css')]")


def test_the_attention_page_gives_the_procedure_contact_and_channels(client):
    response = client.get("/atencion/")
    assert response.status_code == 200
    document = html.fromstring(response.content)
    main = document.xpath("//main")[0]
    text = " ".join(main.text_content().split())
    assert "Atención al Ciudadano" in text
    assert main.xpath(".//a[@href='mailto:atencionalusuario@iess.gob.ec']")
    assert main.xpath(".//a[@href='tel:+59323945666']")
    assert "+593 2 394 5666" in text
    assert "24 horas" in text
    assert "no tiene costo" in text
    assert "«No fui yo»" in text
    for path in ("/quejas/", "/consulta/", "/tramite/nuevo/", "/transparencia/"):
        assert main.xpath(f".//a[@href='{path}']"), path


def test_the_footer_and_the_start_page_link_both_pages(client):
    document = html.fromstring(client.get("/").content)
    for path in ("/atencion/", "/transparencia/"):
        assert document.xpath(f"//footer//a[@href='{path}']"), path
        assert document.xpath(f"//main//a[@href='{path}']"), path


def test_only_reading_is_allowed(client):
    for path in ("/transparencia/", "/transparencia/datos.csv", "/atencion/"):
        assert client.post(path).status_code == 405
