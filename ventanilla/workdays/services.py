"""The holiday calendar: seeding it from the `holidays` package, and the administrators'
changes (add, edit, remove a day). Review deadlines follow the calendar: a weekday that
becomes non-working moves the deadlines that counted it (cases.services.
case_deadlines_holiday_added); a day that becomes working again shortens nothing, since
a deadline already given to a citizen is a promise that stands."""

import datetime as dt
from dataclasses import dataclass

import holidays as holidays_lib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.formats import date_format

from ventanilla.audit.services import audit_log
from ventanilla.cases.services import case_deadlines_holiday_added

from .models import Holiday


@dataclass(frozen=True)
class CalendarChange:
    """What a change of the calendar did: the day as it now is (None once deleted) and
    how many open cases had their review deadline moved."""

    holiday: Holiday | None
    cases_moved: int = 0


def _closes(date: dt.date, is_working_day: bool) -> bool:
    """The row makes `date` a non-working day (weekends are non-working anyway)."""
    return date.weekday() < 5 and not is_working_day


def _values(holiday: Holiday) -> dict:
    return {
        "date": holiday.date.isoformat(),
        "name": holiday.name,
        "is_working_day": holiday.is_working_day,
        "source": holiday.source,
    }


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Escriba el nombre del feriado, por ejemplo «Carnaval»."})
    return name


def _refuse_taken(date: dt.date, *, other_than: int | None = None) -> None:
    taken = Holiday.objects.filter(date=date).exclude(pk=other_than).first()
    if taken is not None:
        raise ValidationError(
            {
                "date": f"El {date_format(date, 'j \\d\\e F \\d\\e Y')} ya está en el calendario "
                f"(«{taken.name}»): cámbielo en la lista en lugar de añadirlo otra vez."
            }
        )


@transaction.atomic
def holidays_seed(*, years: list[int]) -> int:
    """Add Ecuador's public holidays for `years`; never overwrite a row an administrator edited.
    Open cases whose deadline counted a newly added day as working get one more day.

    Returns how many rows were added.
    """
    added = 0
    for day, name in sorted(
        holidays_lib.country_holidays("EC", years=years, language="es").items()
    ):
        if day.weekday() >= 5:
            continue
        _, created = Holiday.objects.get_or_create(
            date=day, defaults={"name": name, "source": Holiday.Source.PACKAGE}
        )
        if created:
            added += 1
            case_deadlines_holiday_added(day=day)
    return added


@transaction.atomic
def holiday_add(*, actor, date: dt.date, name: str, is_working_day: bool = False) -> CalendarChange:
    """An administrator adds a day to the calendar: a holiday, or (`is_working_day`) a
    holiday that was moved, so that its day is worked. Refuses a date already listed."""
    name = _clean_name(name)
    _refuse_taken(date)
    holiday = Holiday.objects.create(
        date=date, name=name, is_working_day=is_working_day, source=Holiday.Source.MANUAL
    )
    audit_log(action="workdays.holiday_added", actor=actor, obj=holiday, new=_values(holiday))
    moved = (
        case_deadlines_holiday_added(day=date, actor=actor) if _closes(date, is_working_day) else 0
    )
    return CalendarChange(holiday=holiday, cases_moved=moved)


@transaction.atomic
def holiday_update(
    *, actor, holiday: Holiday, date: dt.date, name: str, is_working_day: bool
) -> CalendarChange:
    """An administrator changes a day of the calendar (its date, name or whether it is
    worked). If the change closes a weekday that was open, deadlines across it move;
    a day opened again shortens no deadline."""
    holiday = Holiday.objects.select_for_update().get(pk=holiday.pk)
    name = _clean_name(name)
    _refuse_taken(date, other_than=holiday.pk)
    old = _values(holiday)
    closed_before = holiday.date == date and _closes(holiday.date, holiday.is_working_day)
    holiday.date, holiday.name, holiday.is_working_day = date, name, is_working_day
    # Edited by a person: the seed never overwrites it.
    holiday.source = Holiday.Source.MANUAL
    holiday.save()
    new = _values(holiday)
    if new != old:
        audit_log(action="workdays.holiday_changed", actor=actor, obj=holiday, old=old, new=new)
    moved = 0
    if _closes(date, is_working_day) and not closed_before:
        moved = case_deadlines_holiday_added(day=date, actor=actor)
    return CalendarChange(holiday=holiday, cases_moved=moved)


@transaction.atomic
def holiday_remove(*, actor, holiday: Holiday) -> CalendarChange:
    """An administrator takes a day off the calendar, which makes it a working day again;
    no deadline is shortened. A day the administrators added is deleted. A day from the
    `holidays` package stays, marked as worked, because `seed_holidays` would otherwise
    add it back (returned in `holiday`)."""
    holiday = Holiday.objects.select_for_update().get(pk=holiday.pk)
    old = _values(holiday)
    if holiday.source == Holiday.Source.PACKAGE:
        holiday.is_working_day = True
        holiday.source = Holiday.Source.MANUAL
        holiday.save(update_fields=["is_working_day", "source"])
        audit_log(
            action="workdays.holiday_removed",
            actor=actor,
            obj=holiday,
            old=old,
            new=_values(holiday),
        )
        return CalendarChange(holiday=holiday)
    audit_log(action="workdays.holiday_removed", actor=actor, obj=holiday, old=old)
    holiday.delete()
    return CalendarChange(holiday=None)
