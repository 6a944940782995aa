"""The English version of the citizen's pages: the catalogue in ventanilla/locale/en is
complete for every string a citizen can read, keeps every placeholder, is compiled, and
the pages a person abroad opens after choosing "English" (the language cookie) carry no
leftover Spanish, except the statement they must read aloud in Spanish in the video."""

import gettext
import html
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from ventanilla.cases.models import Case
from ventanilla.cases.statement import statement_for
from ventanilla.portal.request_steps import STEPS
from ventanilla.testing.factories import submission_fields, submission_files, submit_request

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "ventanilla" / "locale" / "en" / "LC_MESSAGES"
PO_PATH = LOCALE / "django.po"
MO_PATH = LOCALE / "django.mo"
# Where the strings a citizen reads come from: the portal, the shared page chrome, the
# case rules and messages, the upload checks, and the emails.
CITIZEN_SOURCES = (
    "ventanilla/portal/",
    "ventanilla/templates/",
    "ventanilla/cases/",
    "ventanilla/documents/",
    "ventanilla/notifications/",
    "ventanilla/complaints/",
    "ventanilla/transparency/",
    # The answers every citizen may meet: too many requests, the database briefly away.
    "ventanilla/ops/ratelimits.py",
    "ventanilla/ops/middleware.py",
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%")
TAG = re.compile(r"</?[a-zA-Z][\w-]*")
# Spanish words of the page chrome and of the guided request that an English page must not
# show (the statement read aloud in the video is removed from the text first).
SPANISH_CHROME = (
    "Iniciar trámite",
    "Consultar estado",
    "Guardar y continuar",
    "Saltar al contenido",
    "Ventanilla Virtual",
    "El trámite no tiene costo",
    "Atención al Ciudadano",
    "Paso ",
    "Revise",
    "Ingrese",
    "Cargue",
    "Elija",
    "Enviar",
    "trámite",
    "solicitud",
    "obligatorio",
)


@dataclass
class Entry:
    msgid: str
    msgid_plural: str = ""
    msgstrs: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    @property
    def translated(self) -> bool:
        return bool(self.msgstrs) and all(self.msgstrs) and "fuzzy" not in self.flags

    @property
    def for_citizens(self) -> bool:
        return any(source.startswith(CITIZEN_SOURCES) for source in self.sources)


def _unquote(text: str) -> str:
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], text.strip()[1:-1])


def _catalogue(path: Path = PO_PATH) -> list[Entry]:
    """The entries of a .po file (no polib in the environment: its format is small)."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry, fields, key = Entry(msgid=""), {}, None
        for line in block.splitlines():
            if line.startswith("#:"):
                entry.sources += [re.sub(r":\d+$", "", s) for s in line[2:].split()]
            elif line.startswith("#,"):
                entry.flags += [f.strip() for f in line[2:].split(",")]
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):
                fields[key] += _unquote(line)
            else:
                key, _, value = line.partition(" ")
                fields[key] = _unquote(value)
        if "msgid" not in fields or not fields["msgid"]:
            continue  # the header
        entry.msgid = fields["msgid"]
        entry.msgid_plural = fields.get("msgid_plural", "")
        entry.msgstrs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
        entries.append(entry)
    return entries


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_the_catalogue_holds_the_citizen_strings():
    entries = _catalogue()
    citizen = [e for e in entries if e.for_citizens]
    assert len(citizen) > 300, "run makemessages -l en (see docs): the catalogue looks empty"
    sources = {s for e in citizen for s in e.sources}
    for expected in (
        "ventanilla/templates/base.html",
        "ventanilla/portal/request_steps.py",
        "ventanilla/portal/client_messages.py",
        "ventanilla/cases/validators.py",
        "ventanilla/documents/validation.py",
    ):
        assert expected in sources


def test_every_citizen_string_has_an_english_translation():
    missing = [e.msgid for e in _catalogue() if e.for_citizens and not e.translated]
    assert missing == [], (
        f"{len(missing)} strings a citizen can read have no English translation (or are "
        f"marked fuzzy) in {PO_PATH}; translate them and recompile (msgfmt): {missing[:10]}"
    )


def test_translations_keep_every_placeholder_and_tag():
    wrong = []
    for entry in _catalogue():
        if not entry.translated:
            continue
        sources = [entry.msgid] + [entry.msgid_plural] * (len(entry.msgstrs) - 1)
        for source, translation in zip(sources, entry.msgstrs, strict=True):
            if _placeholders(source) != _placeholders(translation):
                wrong.append((entry.msgid, "placeholders"))
            if sorted(TAG.findall(source)) != sorted(TAG.findall(translation)):
                wrong.append((entry.msgid, "HTML tags"))
    assert wrong == []


def test_the_video_statement_is_never_translated():
    """The institute checks the words of the statement: should it ever go through the
    catalogue, its "translation" is the Spanish text itself (the English video page shows
    it in Spanish, see below)."""
    for entry in _catalogue():
        if "autorizo al Instituto Ecuatoriano de Seguridad Social" in entry.msgid:
            assert entry.msgstrs in ([entry.msgid], [""])


def test_the_compiled_catalogue_is_the_current_one(tmp_path):
    """django.mo says what django.po says: compiled again now, the two catalogues match."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail("msgfmt not found: install GNU gettext (Debian package `gettext`).")
    fresh = tmp_path / "django.mo"
    result = subprocess.run(
        [msgfmt, "--check", "-o", str(fresh), str(PO_PATH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with fresh.open("rb") as f:
        expected = gettext.GNUTranslations(f)._catalog
    with MO_PATH.open("rb") as f:
        compiled = gettext.GNUTranslations(f)._catalog
    assert compiled == expected, f"{MO_PATH} is stale: run msgfmt -o {MO_PATH} {PO_PATH}"


class _VisibleText(HTMLParser):
    """The text a person sees or hears (screen readers): text nodes outside scripts and
    styles, and the labels and titles held in attributes."""

    ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        self.parts += [value or "" for name, value in attrs if name in self.ATTRIBUTES]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def _visible_text(page: str) -> str:
    parser = _VisibleText()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def _spanish_sources() -> list[str]:
    """The Spanish source strings that have an English translation different from them
    (two words or more, so that a name like "Ecuador" or a word like "de" is not matched)."""
    return sorted(
        {
            " ".join(e.msgid.split())
            for e in _catalogue()
            if e.translated and e.msgstrs[0] != e.msgid and len(e.msgid.split()) > 1
        }
    )


def _assert_english(page: str, *, spanish_content: tuple[str, ...] = ()) -> None:
    """The page is marked English and shows none of the Spanish source strings nor the
    Spanish words of the chrome. `spanish_content` is text meant to stay Spanish (the
    statement read aloud, what the person typed)."""
    assert '<html lang="en">' in page
    text = _visible_text(page)
    for kept in sorted(spanish_content, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(' '.join(kept.split()))}(?!\w)", "", text)
    leftovers = [s for s in _spanish_sources() if html.unescape(s) in text]
    leftovers += [word for word in SPANISH_CHROME if word in text]
    assert leftovers == [], f"Spanish left on an English page: {leftovers}\n\n{text}"
    messages = re.search(r'<script id="vt-messages" type="application/json">(.*?)</script>', page)
    if messages:
        spanish = set(_spanish_sources())
        leftovers = [m for m in _strings(json.loads(messages.group(1))) if m in spanish]
        assert leftovers == [], f"Spanish messages for the page's scripts: {leftovers}"


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [" ".join(value.split())]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.fixture
def english(client: Client) -> Client:
    """A person who chose English with the switch in the header."""
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    return client


@pytest.mark.parametrize("url", ["/", "/consulta/", "/tramite/nuevo/identificacion/"])
def test_the_first_pages_are_in_english(english, url):
    page = english.get(url).content.decode()
    _assert_english(page)
    for phrase in ("Start an application", "Check status", "Skip to main content"):
        assert phrase in page
    # The switch offers Spanish back, named in Spanish.
    assert 'value="es" lang="es">Español</button>' in page


def test_without_the_choice_the_pages_stay_in_spanish(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert '<html lang="es">' in page
    assert "Iniciar trámite" in page and "Start an application" not in page


def _step_url(slug: str) -> str:
    return reverse("portal:request_step", args=[slug])


def test_a_person_abroad_applies_and_withdraws_in_english(english):
    """Every page of the guided request, its errors, the confirmation, the status page
    and the withdrawal, in English; the statement to read aloud stays Spanish."""
    fields = submission_fields()
    files = submission_files(fields)
    # What the person typed and the names of their files are theirs, in any language.
    typed = tuple(v for v in fields.values() if v) + tuple(f.name for f in files.values())
    statement = statement_for(fields)

    # A wrong cédula number is explained in English.
    step = next(s for s in STEPS if s.slug == "identificacion")
    answers = {name: fields.get(name, "") for name in step.answer_fields}
    response = english.post(
        _step_url("identificacion"), {**answers, "id_number": "1710034066", "action": "continue"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    _assert_english(page, spanish_content=typed)
    assert "Check the highlighted details" in page and "ID card number is not valid" in page

    uploads = {
        "documento": ("id_front", "id_back"),
        "fotografia": ("selfie",),
        "solicitud": ("request_form",),
        "video": ("video",),
    }
    for step in STEPS:
        page = english.get(_step_url(step.slug)).content.decode()
        _assert_english(page, spanish_content=(*typed, statement))
        data = {name: fields.get(name, "") for name in step.answer_fields}
        data.update({kind: files[kind] for kind in uploads.get(step.slug, ())})
        response = english.post(_step_url(step.slug), {**data, "action": "continue"})
        assert response.status_code == 302, response.content.decode()[:2000]
        if step.slug == "video":
            assert statement in page  # in Spanish, word for word

    review = english.get(reverse("portal:request_review")).content.decode()
    _assert_english(review, spanish_content=typed)
    assert "Check your answers before sending" in review
    response = english.post(reverse("portal:request_review"), {"declaration": "on"}, follow=True)
    received = response.content.decode()
    _assert_english(received, spanish_content=typed)
    case = Case.objects.get()
    assert "Your case number is" in received and case.number in received

    response = english.post(
        reverse("portal:status"), {"number": case.number, "id_number": fields["id_number"]}
    )
    status = response.content.decode()
    _assert_english(status, spanish_content=typed)
    assert f"Status of case {case.number}" in status

    confirm = english.get(reverse("portal:withdraw", args=[case.number])).content.decode()
    _assert_english(confirm, spanish_content=typed)
    assert "What happens if you withdraw" in confirm
    response = english.post(
        reverse("portal:withdraw", args=[case.number]), {"confirm": "on"}, follow=True
    )
    done = response.content.decode()
    _assert_english(done, spanish_content=typed)
    assert "Your case has been closed" in done


def test_country_names_and_dates_follow_the_language(english):
    fields = submission_fields()
    step = next(s for s in STEPS if s.slug == "identificacion")
    answers = {name: fields.get(name, "") for name in step.answer_fields}
    spanish = Client()  # someone else, in Spanish, opens the same page first
    spanish.post(_step_url("identificacion"), {**answers, "action": "continue"})
    assert "España" in spanish.get(_step_url("residencia")).content.decode()

    english.post(_step_url("identificacion"), {**answers, "action": "continue"})
    page = english.get(_step_url("residencia")).content.decode()
    countries = re.search(r'<select name="residence_country".*?</select>', page, re.S).group(0)
    assert ">Spain</option>" in countries and "España" not in countries

    case = submit_request(fields, submission_files(fields))
    response = english.post(
        reverse("portal:status"), {"number": case.number, "id_number": fields["id_number"]}
    )
    text = _visible_text(response.content.decode())
    assert not re.search(r"\d de \w+ de \d{4}", text), text
