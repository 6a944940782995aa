"""The statement the applicant reads aloud in the authorisation video, filled in with
their data, for the teleprompter.

The words are the checks engine's (ventanilla.checks.engines.statement), which are
the seed's word for word, so that what is shown is exactly what the statement check
listens for; the place is named as that check names it first.

A passport holder still reads "portador de la cédula de identidad número": the
check anchors the number on those words and has no wording for a passport.
"""

from collections.abc import Mapping

from ventanilla.checks.engines.statement import expected_statement
from ventanilla.checks.residence import residence_names


def statement_for(values: Mapping) -> str:
    """The seed's statement with the full name, the ID number and the place of
    residence ("país, estado / provincia, ciudad", by their Spanish names) of
    `values` (the declared fields)."""
    full_name = " ".join(
        f"{values.get('first_names') or ''} {values.get('last_names') or ''}".split()
    )
    place = ", ".join(part for part in residence_names(values) if part)
    return expected_statement(
        full_name=full_name, id_number=str(values.get("id_number") or "").strip(), place=place
    )
