import pytest
from django.db import transaction

from ventanilla.cases.models import CaseNumberSequence
from ventanilla.cases.numbers import (
    case_number_format,
    case_number_is_valid,
    yearly_sequence_next,
)
from ventanilla.testing.concurrency import run_at_once


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


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_numbers_taken_at_once_by_several_transactions_are_consecutive_and_never_repeated():
    taken = []

    def take():
        for _ in range(10):
            with transaction.atomic():
                taken.append(yearly_sequence_next(CaseNumberSequence, 2031))

    # The year's row does not exist yet: the first numbers also race to create it.
    run_at_once(*[take] * 4)
    assert sorted(taken) == list(range(1, 41))
    assert CaseNumberSequence.objects.get(year=2031).last_value == 40
