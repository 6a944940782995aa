"""The spoken statement against the one the seed prescribes: pure text, no model.

The transcripts below are what an analyst would read: the statement as a person
says it and as Whisper writes it down (accents lost, "I.E.S.S.", digits written
or spelled out), with a clause left out, or with another person's data.
"""

import json

import pytest

from ventanilla.checks.engines import FAIL, PASS, WARN
from ventanilla.checks.engines.statement import (
    expected_statement,
    statement_clauses,
    statement_match,
)
from ventanilla.testing.factories import PEOPLE, STATEMENT

MARIA = PEOPLE[0]  # María Fernanda Quispe Andrade, 0923456784, lives in Madrid
MADRID = [["España", "Spain"], ["Madrid", "Comunidad de Madrid"], ["Madrid"]]

ID_SPOKEN = {
    "digit by digit": "cero nueve dos tres cuatro cinco seis siete ocho cuatro",
    "in groups": "cero nueve, veintitrés, cuarenta y cinco, sesenta y siete, ochenta y cuatro",
    "as one number": (
        "novecientos veintitrés millones cuatrocientos cincuenta y seis mil "
        "setecientos ochenta y cuatro"
    ),
    "written in digits": "0923456784",
    "written in groups": "09-2345-6784",
}

CLAUSES = {
    "authorization": (
        "autorizo al Instituto Ecuatoriano de Seguridad Social a actualizar mis datos de "
        "contacto y "
    ),
    "truthfulness": "declaro que la información proporcionada es veraz, ",
    "release": (
        "por lo que, deslindo así al IESS de cualquier responsabilidad por las acciones que "
        "se ejecuten. "
    ),
    "residence": "Actualmente resido en España, Madrid, Madrid, ",
    "impossibility": (
        "por lo que me es imposible acercarme a las agencias del IESS de forma presencial a "
        "realizar dicho trámite."
    ),
}


def said(
    *,
    name: str = "María Fernanda Quispe Andrade",
    id_number: str = ID_SPOKEN["digit by digit"],
    omit: str | None = None,
) -> str:
    """María's statement as spoken, with `omit` (a key of CLAUSES) left out."""
    start = f"Yo, {name}, portador de la cédula de identidad número {id_number}, "
    return start + "".join(text for key, text in CLAUSES.items() if key != omit)


def match(transcript: str, person: dict = MARIA, residence=MADRID):
    return statement_match(
        transcript,
        first_names=person["first_names"],
        last_names=person["last_names"],
        id_number=person["id_number"],
        residence=residence,
    )


def test_the_expected_statement_is_the_seeds_wording():
    expected = expected_statement(
        full_name="María Fernanda Quispe Andrade",
        id_number="0923456784",
        place="España, Madrid, Madrid",
    )
    assert expected == STATEMENT.format(
        name="María Fernanda Quispe Andrade",
        id_number="0923456784",
        place="España, Madrid, Madrid",
    )


def test_the_statement_is_split_into_the_clauses_an_analyst_checks():
    clauses = statement_clauses(full_name="Ana Pérez", id_number="1710034065", place="Perú")
    assert [clause.label for clause in clauses] == [
        "identificación (nombre)",
        "número de cédula",
        "autorización al IESS",
        "declaración de veracidad",
        "deslinde de responsabilidad",
        "lugar de residencia",
        "imposibilidad de acudir",
    ]
    assert clauses[1].expected == "portador de la cédula de identidad número 1710034065,"
    assert clauses[5].expected == "Actualmente resido en Perú,"


@pytest.mark.parametrize("way", ID_SPOKEN)
def test_an_honest_statement_passes_however_the_id_number_is_said(way):
    finding = match(said(id_number=ID_SPOKEN[way]))

    assert finding.outcome == PASS, finding.summary
    evidence = finding.evidence
    assert evidence["missing"] == []
    assert evidence["name_heard"] and evidence["id_number_heard"] and evidence["residence_heard"]
    assert evidence["id_number_spoken"].lstrip("0") == "923456784"
    assert all(clause["heard"] for clause in evidence["clauses"])
    assert 0.9 <= finding.score <= 1.0


def test_typical_transcription_slips_still_pass():
    transcript = (
        "Yo María Fernanda Kispe Andrade portador de la cedula de identidad numero 0923456784 "
        "autorizo al Instituto Equatoriano de Seguridad Social a actualizar mis datos de "
        "contacto y declaro que la informacion proporcionada es veras por lo que deslindo asi "
        "al I.E.S.S. de cualquier responsabilidad por las acciones que se ejecuten. Actualmente "
        "resido en Espana, Madrid, Madrid, por lo que me es imposible acercarme a las agencias "
        "del I.E.S.S. de forma presencial a realizar dichotramite."
    )
    finding = match(transcript)
    assert finding.outcome == PASS, finding.summary


def test_a_garbled_but_complete_whisper_transcript_passes():
    # Whisper base on espeak-ng speech of Jorge Iván Tomalá Reyes (Queens, New York).
    transcript = (
        "Yo, Jorge Iván Toma la Reyes, por favor de la Segura de Identidad Número 2, 4, 0, 1, "
        "2, 3, 4, 5, 6, 8, Autorizo al Instituto Equatoriano de Seguridad Social Actualizar "
        "mis datos de contacto y de claro que la información proporciona a Esmeralas. por lo "
        "que, deslindo así al yes de cualquier responsabilidad por las acciones que se "
        "ejecuten. Actualmente, recibimos en Estados Unidos, Nueva York, que es por lo que me "
        "es imposible a acercarme a las agencias del 10 de forma presencial a realizar dicho "
        "trámite."
    )
    residence = [["Estados Unidos", "United States"], ["Nueva York", "New York"], ["Queens"]]
    finding = match(transcript, PEOPLE[3], residence)
    assert finding.outcome == PASS, finding.summary


@pytest.mark.parametrize(
    ("omit", "label"),
    [
        ("authorization", "autorización al IESS"),
        ("truthfulness", "declaración de veracidad"),
        ("release", "deslinde de responsabilidad"),
        ("residence", "lugar de residencia"),
        ("impossibility", "imposibilidad de acudir"),
    ],
)
def test_a_clause_left_out_fails_naming_it(omit, label):
    finding = match(said(omit=omit))

    assert finding.outcome == FAIL
    assert finding.evidence["missing"] == [label]
    assert label in finding.summary
    clause = next(row for row in finding.evidence["clauses"] if row["label"] == label)
    assert clause["heard"] is False
    assert clause["score"] < finding.evidence["thresholds"]["clause_doubtful"]


def test_leaving_out_the_residence_is_reported_as_residence_not_heard():
    finding = match(said(omit="residence"))
    assert finding.evidence["residence_heard"] is False
    assert finding.evidence["name_heard"] and finding.evidence["id_number_heard"]


def test_another_persons_name_fails_saying_so():
    finding = match(said(name="Luis Alberto Guamán Sarmiento"))

    assert finding.outcome == FAIL
    assert "otro nombre" in finding.summary
    assert "Luis Alberto Guaman Sarmiento" in finding.summary
    assert finding.evidence["name_heard"] is False
    assert finding.evidence["id_number_heard"] is True


def test_another_id_number_fails_saying_which():
    finding = match(said(id_number="cero uno cero dos cero tres cero cuatro cero cero"))

    assert finding.outcome == FAIL
    assert "otro número (0102030400)" in finding.summary
    assert finding.evidence["id_number_heard"] is False
    assert finding.evidence["id_number_spoken"] == "0102030400"
    assert finding.evidence["name_heard"] is True


def test_another_persons_whole_statement_fails():
    luis = PEOPLE[1]
    transcript = (
        f"Yo, {luis['first_names']} {luis['last_names']}, portador de la cédula de identidad "
        "número 0102030400, " + "".join(CLAUSES.values())
    )
    finding = match(transcript)
    assert finding.outcome == FAIL
    assert "otro nombre" in finding.summary and "otro número" in finding.summary


@pytest.mark.parametrize("transcript", ["", "   ", "...", "Gracias."])
def test_no_speech_fails(transcript):
    finding = match(transcript)
    assert finding.outcome == FAIL
    assert finding.summary == "No se escucha la declaración en el video."
    assert len(finding.evidence["missing"]) == 7
    assert finding.score == 0.0


def test_speech_that_is_not_the_statement_fails():
    finding = match(
        "El tiempo para mañana en la sierra será nublado con lluvias dispersas por la tarde, "
        "y en la costa el cielo estará despejado."
    )
    assert finding.outcome == FAIL
    assert finding.summary.startswith("No se escucha la declaración")


def test_an_id_number_with_a_few_misheard_digits_asks_the_analyst_to_listen():
    # Three digits of ten misheard: neither clearly this number nor clearly another.
    finding = match(said(id_number="0923456111"))

    assert finding.outcome == WARN
    assert "número de cédula" in finding.summary
    assert finding.evidence["id_number_heard"] is False
    assert 0.6 <= finding.evidence["id_number_similarity"] < 0.8


def test_the_place_said_in_other_words_asks_the_analyst_to_listen():
    transcript = said(omit="residence").replace(
        "se ejecuten. ", "se ejecuten. Vivo en la ciudad de Madrid, España, "
    )
    finding = match(transcript)

    assert finding.outcome == WARN
    assert finding.evidence["residence_heard"] is True
    assert finding.evidence["doubtful"] == ["lugar de residencia"]


def test_alternative_names_of_the_place_are_accepted():
    transcript = said(omit="residence").replace(
        "se ejecuten. ", "se ejecuten. Actualmente resido en Spain, Comunidad de Madrid, Madrid, "
    )
    assert match(transcript).outcome == PASS


def test_a_passport_number_with_letters_is_matched():
    person = {**MARIA, "id_number": "AB123456"}
    finding = match(said(id_number="A B 1 2 3 4 5 6"), person)
    assert finding.outcome == PASS, finding.summary
    assert finding.evidence["id_number_spoken"] == "ab123456"


def test_the_evidence_lets_an_analyst_judge_and_is_json():
    finding = match(said(omit="residence"))
    evidence = json.loads(json.dumps(finding.evidence))

    assert {
        "transcript",
        "clauses",
        "missing",
        "name_heard",
        "id_number_heard",
        "id_number_spoken",
        "residence_heard",
        "residence_parts",
        "thresholds",
    } <= set(evidence)
    assert {"key", "label", "expected", "score", "heard"} <= set(evidence["clauses"][0])
    assert evidence["clauses"][5]["expected"] == "Actualmente resido en España, Madrid, Madrid,"
    assert [part["part"] for part in evidence["residence_parts"]] == [
        "país",
        "estado o provincia",
        "ciudad",
    ]
    scores = [clause["score"] for clause in evidence["clauses"]]
    assert finding.score == pytest.approx(sum(scores) / len(scores), abs=0.002)
