from ventanilla.cases.numbers import case_number_format, case_number_is_valid


def test_number_carries_a_check_character_that_catches_typos():
    number = case_number_format(2026, 123)
    assert number.startswith("VV-2026-000123-")
    assert case_number_is_valid(number)
    # Any single changed digit or check character is caught.
    assert not case_number_is_valid(number.replace("000123", "000132"))
    assert not case_number_is_valid(number.replace("000123", "000124"))
    wrong_check = "0" if number[-1] != "0" else "1"
    assert not case_number_is_valid(number[:-1] + wrong_check)


def test_number_typed_loosely_is_accepted():
    number = case_number_format(2026, 5)
    assert case_number_is_valid(number.lower().replace("-", " "))
