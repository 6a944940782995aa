import datetime as dt

from ninja import Schema
from pydantic import Field


class CaseCreatedOut(Schema):
    number: str
    status: str


class ErrorsOut(Schema):
    errors: dict[str, list[str]]


class DetailOut(Schema):
    detail: str


class TimelineEntry(Schema):
    status: str
    status_label: str
    at: dt.datetime


class CaseStatusOut(Schema):
    number: str
    status: str
    status_label: str
    timeline: list[TimelineEntry]


class QueueItem(Schema):
    number: str
    status: str
    status_label: str
    full_name: str
    id_type: str
    id_number: str
    residence_country: str
    submitted_at: dt.datetime
    review_due_at: dt.datetime | None
    working_days_left: int | None
    flags: list[str]
    assigned_to: str | None


class CorrectionIn(Schema):
    items: list[str]
    reasons: list[str]
    message: str


class RejectIn(Schema):
    reasons: list[str]
    message: str


class InviteIn(Schema):
    starts_at: dt.datetime
    meeting_url: str = ""


class CallOutcomeIn(Schema):
    identity_validated: bool
    notes: str = ""


class ActionOut(Schema):
    number: str
    status: str
    status_label: str


class TransparencyMonth(Schema):
    """One month of the public figures (stable open-data schema: docs/transparency.md)."""

    year: int = Field(ge=2000, le=9999)
    month: int = Field(ge=1, le=12)
    complaints: int = Field(ge=0)
    attentions: int = Field(ge=0)
