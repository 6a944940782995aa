"""`manage.py import_insured FILE.csv`, as an operator loads the registry: good rows
land, bad rows are named by their line and skipped, a file without a required
column is refused, and a second import never overwrites contact data."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ventanilla.registry.models import ContactDataChange, InsuredPerson

pytestmark = pytest.mark.django_db

HEADER = "id_number,first_names,last_names,birth_date,insured_type,email,phone"
MARIA = "0923456784,María Fernanda,Quispe Andrade,1984-06-12,afiliado,maria@example.org,0991234567"
LUIS = '0102030400,Luis Alberto,"Guamán Sarmiento",1971-11-02,JUBILADO,,+593 2 394 5666'


def _import(tmp_path, *lines: str, name: str = "asegurados.csv", bom: bool = False):
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("import_insured", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_rows_are_created_with_clean_values(tmp_path):
    out, err = _import(tmp_path, HEADER, MARIA, LUIS)

    assert err == ""
    assert "2 asegurados creados" in out
    maria = InsuredPerson.objects.get(id_number="0923456784")
    assert (maria.id_type, maria.first_names, maria.last_names) == (
        "cedula", "María Fernanda", "Quispe Andrade",
    )  # fmt: skip
    assert maria.birth_date == dt.date(1984, 6, 12)
    assert (maria.insured_type, maria.email, maria.phone) == (
        "afiliado", "maria@example.org", "+593991234567",
    )  # fmt: skip
    luis = InsuredPerson.objects.get(id_number="0102030400")
    assert (luis.insured_type, luis.email, luis.phone) == ("jubilado", "", "+59323945666")
    assert not ContactDataChange.objects.exists()


def test_a_file_saved_by_excel_with_a_byte_order_mark_is_read(tmp_path):
    out, err = _import(tmp_path, HEADER, MARIA, bom=True)
    assert err == ""
    assert InsuredPerson.objects.filter(id_number="0923456784").exists()


BAD_ROWS = {
    "cédula check digit": ("1714307104,Ana,Pérez,1980-01-01,afiliado,,", "id_number"),
    "insured type": ("1714307103,Ana,Pérez,1980-01-01,pensionista,,", "insured_type"),
    "birth date": ("1714307103,Ana,Pérez,01/02/1980,afiliado,,", "birth_date"),
    "phone": ("1714307103,Ana,Pérez,1980-01-01,afiliado,,12345", "phone"),
    "email": ("1714307103,Ana,Pérez,1980-01-01,afiliado,ana@,", "email"),
    "empty first names": ("1714307103, ,Pérez,1980-01-01,afiliado,,", "first_names"),
}


@pytest.mark.parametrize(("row", "column"), BAD_ROWS.values(), ids=list(BAD_ROWS))
def test_a_bad_row_is_reported_by_line_and_column_and_skipped(tmp_path, row, column):
    out, err = _import(tmp_path, HEADER, MARIA, row, LUIS)

    assert "2 asegurados creados" in out
    assert "1 filas con errores" in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("línea 3:")
    assert column in lines[0]
    assert InsuredPerson.objects.count() == 2
    assert not InsuredPerson.objects.filter(first_names="Ana").exists()


def test_every_bad_row_is_reported_and_the_good_ones_still_load(tmp_path):
    out, err = _import(
        tmp_path,
        HEADER,
        "1714307104,Ana,Pérez,1980-01-01,afiliado,,",
        MARIA,
        "1714307103,Ana,Pérez,1980-13-01,afiliado,,",
        LUIS,
    )
    assert [line.split(":")[0] for line in err.strip().splitlines()] == ["línea 2", "línea 4"]
    assert "2 asegurados creados, 0 actualizados, 2 filas con errores" in out
    assert set(InsuredPerson.objects.values_list("id_number", flat=True)) == {
        "0923456784", "0102030400",
    }  # fmt: skip


def test_the_reported_line_is_the_line_in_the_file_after_a_blank_line(tmp_path):
    _, err = _import(tmp_path, HEADER, MARIA, "", "1714307104,Ana,Pérez,1980-01-01,afiliado,,")
    assert err.strip().startswith("línea 4:"), err


def test_a_row_without_names_is_reported(tmp_path):
    _, err = _import(tmp_path, HEADER, "1714307103,,,1980-01-01,afiliado,,")
    assert err.strip().startswith("línea 2:"), err
    assert not InsuredPerson.objects.exists()


@pytest.mark.parametrize("missing", ["id_number", "last_names", "email", "phone"])
def test_a_file_without_a_required_column_is_refused(tmp_path, missing):
    columns = HEADER.split(",")
    index = columns.index(missing)
    rows = [
        ",".join(v for i, v in enumerate(line.split(",")) if i != index) for line in (HEADER, MARIA)
    ]

    with pytest.raises(CommandError, match=missing):
        _import(tmp_path, *rows)
    assert not InsuredPerson.objects.exists()


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="No existe"):
        call_command("import_insured", str(tmp_path / "no-existe.csv"))


def test_a_second_import_updates_names_but_never_contact_data(tmp_path):
    _import(tmp_path, HEADER, MARIA)
    person = InsuredPerson.objects.get(id_number="0923456784")
    # Contact data the person later updated through a case.
    person.ecuador_mobile = "+593987654321"
    person.save()

    out, err = _import(
        tmp_path,
        HEADER,
        "0923456784,María Fernanda del Carmen,Quispe de Andrade,1984-06-13,jubilado,"
        "otra@example.org,0987000000",
        name="segunda.csv",
    )

    assert err == ""
    assert "0 asegurados creados, 1 actualizados" in out
    person.refresh_from_db()
    assert (person.first_names, person.last_names) == (
        "María Fernanda del Carmen",
        "Quispe de Andrade",
    )
    assert person.birth_date == dt.date(1984, 6, 13)
    assert person.insured_type == "jubilado"
    assert (person.email, person.phone) == ("maria@example.org", "+593991234567")
    assert person.ecuador_mobile == "+593987654321"
    assert InsuredPerson.objects.count() == 1
    assert not ContactDataChange.objects.exists()
