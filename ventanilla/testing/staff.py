"""Signing staff in from the tests, the way the back-office requires it."""


def staff_login(client, user) -> None:
    """Sign ``user`` in on Django's test ``client`` with every factor the back-office
    asks for, so that a test reaches the page it is about."""
    client.force_login(user)
