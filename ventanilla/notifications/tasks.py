from django.tasks import task

from .services import email_send


@task()
def email_send_task(email_id: int) -> str:
    """Send one outbox message; safe to run twice (the message is claimed first)."""
    email = email_send(email_id=email_id)
    return email.status if email is not None else "skipped"


@task()
def sms_send_task(sms_id: int) -> str:
    """Send one text message of the outbox; safe to run twice (the message is claimed first)."""
    from .sms import sms_send

    sms = sms_send(sms_id=sms_id)
    return sms.status if sms is not None else "skipped"
