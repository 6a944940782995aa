import datetime as dt
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from stdnum.ec import ci

from ventanilla.cases.constants import FINAL_STATUSES, REVIEW_CLOCK_STATUSES, CaseStatus
from ventanilla.cases.models import Case
from ventanilla.cases.numbers import CASE_NUMBER_RE, case_number_is_valid
from ventanilla.cases.selectors import ALL_STATUSES, QueueFilters, case_queue
from ventanilla.testing.factories import submission_fields, submission_files, submit_request
from ventanilla.workdays.models import Holiday
from ventanilla.workdays.selectors import ECUADOR, working_day_deadline

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(analyst, supervisor):
    # A holiday typed in by hand inside the generated period moves some deadlines.
    day = timezone.localdate() - dt.timedelta(days=20)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    Holiday.objects.get_or_create(date=day, defaults={"name": "Feriado local de prueba"})
    call_command("generate_cases", count=200, seed=3, open_fraction=0.2)
    return list(Case.objects.order_by("submitted_at"))


def test_cases_have_valid_numbers_and_identification(generated):
    assert len(generated) == 200
    assert len({c.number for c in generated}) == 200
    assert all(case_number_is_valid(c.number) for c in generated)
    for case in generated:
        if case.id_type == "cedula":
            assert ci.is_valid(case.id_number), case.id_number
            assert case.birth_province == case.id_number[:2]
        else:
            assert re.fullmatch(r"[A-Z0-9]{5,20}", case.id_number)
    # Numbers follow the order of submission within a year.
    sequences = [int(CASE_NUMBER_RE.match(c.number)["seq"]) for c in generated]
    assert sequences == sorted(sequences)
    assert any(re.search(r"[áéíóúñÁÉÍÓÚÑ]", c.full_name) for c in generated)
    assert len({c.residence_country for c in generated}) > 3
    assert not any(c.residence_country == "EC" for c in generated)


def test_statuses_are_spread_and_the_newest_cases_are_open(generated):
    statuses = {c.status for c in generated}
    assert len(statuses) >= 6
    open_cases = [c for c in generated if c.status not in FINAL_STATUSES]
    assert len(open_cases) == 40
    assert open_cases == generated[-40:]
    # Some wait for review within their deadline, some are past review.
    assert {c.status for c in open_cases} & REVIEW_CLOCK_STATUSES
    assert {c.status for c in open_cases} - REVIEW_CLOCK_STATUSES


def test_deadlines_follow_the_working_day_calendar(generated):
    holidays = set(Holiday.objects.filter(is_working_day=False).values_list("date", flat=True))
    with_deadline = [c for c in generated if c.review_due_at is not None]
    assert len(with_deadline) > 150
    for case in with_deadline:
        assert case.review_due_at == working_day_deadline(case.submitted_at, 3)
        due_day = case.review_due_at.astimezone(ECUADOR).date()
        assert due_day.weekday() < 5 and due_day not in holidays
    paused = [c for c in generated if c.status == CaseStatus.CORRECTION_REQUESTED]
    assert all(c.review_due_at is None and c.review_working_days_left for c in paused)


def test_some_cases_are_assigned_to_those_who_take_cases(generated, analyst, auditor):
    assignees = {c.assigned_to_id for c in generated}
    assert analyst.pk in assignees
    assert None in assignees
    assert auditor.pk not in assignees


def test_the_queue_filters_and_search_work_on_generated_cases(generated):
    open_statuses = {c.status for c in generated} - set(FINAL_STATUSES)
    assert set(case_queue().values_list("status", flat=True)) == open_statuses
    case = generated[57]
    first, last = case.first_names.split()[0], case.last_names.split()[0]
    found = case_queue(filters=QueueFilters(query=f"{first} {last}", status=ALL_STATUSES))
    assert case in found
    assert list(case_queue(filters=QueueFilters(query=case.number))) == [case]


def test_the_next_real_case_number_follows_the_generated_ones(generated):
    this_year = [c.number for c in generated if c.number.startswith(f"VV-{timezone.now().year}")]
    assert this_year
    fields = submission_fields()
    real = submit_request(fields, submission_files(fields))
    assert real.number > max(this_year)
    assert int(CASE_NUMBER_RE.match(real.number)["seq"]) == len(this_year) + 1


def test_a_count_below_one_is_refused():
    with pytest.raises(CommandError, match="--count"):
        call_command("generate_cases", count=0)
