"""The statement shown on the teleprompter: the seed's words with the applicant's data,
and exactly what the statement check listens for."""

import pytest

from ventanilla.cases.statement import statement_for
from ventanilla.checks.engines import PASS
from ventanilla.checks.engines.statement import statement_match
from ventanilla.checks.residence import spoken_names
from ventanilla.testing.factories import submission_fields


def _heard(values: dict, statement: str):
    """The statement check on a transcript that is the teleprompter text, read perfectly."""
    return statement_match(
        statement,
        first_names=values["first_names"],
        last_names=values["last_names"],
        id_number=values["id_number"],
        residence=spoken_names(
            values["residence_country"], values["residence_region"], values["residence_city"]
        ),
    )


def test_the_statement_carries_the_name_number_and_place_in_spanish():
    luis = submission_fields(1)  # Newark, New Jersey (US-NJ)

    statement = statement_for(luis)

    assert statement == (
        "Yo, Luis Alberto Guamán Sarmiento, portador de la cédula de identidad número "
        "0102030400, autorizo al Instituto Ecuatoriano de Seguridad Social a actualizar mis "
        "datos de contacto y declaro que la información proporcionada es veraz, por lo que, "
        "deslindo así al IESS de cualquier responsabilidad por las acciones que se ejecuten. "
        "Actualmente resido en Estados Unidos, Nueva Jersey, Newark, por lo que me es "
        "imposible acercarme a las agencias del IESS de forma presencial a realizar dicho "
        "trámite."
    )


@pytest.mark.parametrize(
    ("person", "place"),
    [
        (0, "España, Madrid, Madrid"),
        (2, "Italia, Milano, Milán"),
        (3, "Estados Unidos, Nueva York, Queens"),
    ],
)
def test_places_are_named_in_spanish_and_the_check_hears_the_whole_statement(person, place):
    values = submission_fields(person)

    statement = statement_for(values)

    assert f"Actualmente resido en {place}, por lo que" in statement
    finding = _heard(values, statement)
    assert finding.outcome == PASS, finding.summary
    assert finding.evidence["missing"] == finding.evidence["doubtful"] == []


def test_a_region_typed_as_text_is_said_as_typed():
    values = submission_fields(0, residence_country="CA", residence_region="Ontario del Norte")

    assert "Actualmente resido en Canadá, Ontario del Norte, Madrid, por lo que" in statement_for(
        values
    )


def test_a_passport_holder_reads_the_seeds_words_with_the_passport_number():
    # The check anchors the number on "portador de la cédula de identidad número" and
    # has no wording for a passport: the seed's words stay.
    values = submission_fields(3, id_type="passport", id_number="AB123456")

    statement = statement_for(values)

    assert "portador de la cédula de identidad número AB123456, autorizo" in statement
    assert _heard(values, statement).outcome == PASS


def test_missing_parts_of_the_place_are_left_out():
    values = submission_fields(0, residence_region="", residence_city="")

    assert "Actualmente resido en España, por lo que" in statement_for(values)
