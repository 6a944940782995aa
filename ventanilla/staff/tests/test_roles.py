"""Every role against every permission, written out: a change to GRANTS must change this
table too, on purpose."""

import pytest

from ventanilla.staff.roles import GRANTS, Permission, Role, can, users_with
from ventanilla.staff.services import staff_user_ensure

P = Permission
# fmt: off
EXPECTED = {
    #                        analyst supervisor auditor administrator
    P.USE_BACKOFFICE: {Role.ANALYST: True,  Role.SUPERVISOR: True,  Role.AUDITOR: True,  Role.ADMINISTRATOR: True},
    P.VIEW_CASES:     {Role.ANALYST: True,  Role.SUPERVISOR: True,  Role.AUDITOR: True,  Role.ADMINISTRATOR: False},
    P.VIEW_DOCUMENTS: {Role.ANALYST: True,  Role.SUPERVISOR: True,  Role.AUDITOR: True,  Role.ADMINISTRATOR: False},
    P.DECIDE:         {Role.ANALYST: True,  Role.SUPERVISOR: True,  Role.AUDITOR: False, Role.ADMINISTRATOR: False},
    P.VIEW_REGISTRY:  {Role.ANALYST: True,  Role.SUPERVISOR: True,  Role.AUDITOR: True,  Role.ADMINISTRATOR: False},
    P.TAKE_CASES:     {Role.ANALYST: True,  Role.SUPERVISOR: False, Role.AUDITOR: False, Role.ADMINISTRATOR: False},
    P.ASSIGN:         {Role.ANALYST: False, Role.SUPERVISOR: True,  Role.AUDITOR: False, Role.ADMINISTRATOR: False},
    P.VIEW_DASHBOARD: {Role.ANALYST: False, Role.SUPERVISOR: True,  Role.AUDITOR: True,  Role.ADMINISTRATOR: False},
    P.EDIT_CALENDAR:  {Role.ANALYST: False, Role.SUPERVISOR: True,  Role.AUDITOR: False, Role.ADMINISTRATOR: True},
    P.VIEW_AUDIT:     {Role.ANALYST: False, Role.SUPERVISOR: True,  Role.AUDITOR: True,  Role.ADMINISTRATOR: True},
    P.MANAGE_STAFF:   {Role.ANALYST: False, Role.SUPERVISOR: False, Role.AUDITOR: False, Role.ADMINISTRATOR: True},
    P.VIEW_DATA_REQUESTS:   {Role.ANALYST: False, Role.SUPERVISOR: True, Role.AUDITOR: True,  Role.ADMINISTRATOR: False},
    P.HANDLE_DATA_REQUESTS: {Role.ANALYST: False, Role.SUPERVISOR: True, Role.AUDITOR: False, Role.ADMINISTRATOR: False},
    P.VIEW_COMPLAINTS:      {Role.ANALYST: True,  Role.SUPERVISOR: True, Role.AUDITOR: True,  Role.ADMINISTRATOR: False},
    P.HANDLE_COMPLAINTS:    {Role.ANALYST: True,  Role.SUPERVISOR: True, Role.AUDITOR: False, Role.ADMINISTRATOR: False},
}
# fmt: on
CELLS = [(role, perm, allowed) for perm, row in EXPECTED.items() for role, allowed in row.items()]


def test_the_table_covers_every_role_and_every_permission():
    assert set(EXPECTED) == set(Permission)
    assert all(set(row) == set(Role) for row in EXPECTED.values())
    assert set(GRANTS) == set(Role)


@pytest.mark.parametrize(("role", "permission", "allowed"), CELLS)
def test_grants(role, permission, allowed):
    assert (permission in GRANTS[role]) is allowed


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "permission", "allowed"), CELLS)
def test_can_answers_as_the_table_says_for_a_user_in_that_role(role, permission, allowed):
    user = staff_user_ensure(username=f"persona.{role}", password="x" * 20, role=role)
    assert can(user, permission) is allowed


@pytest.mark.django_db
def test_permissions_add_up_for_a_person_with_two_roles_and_vanish_when_deactivated(
    django_user_model,
):
    from django.contrib.auth.models import Group

    user = staff_user_ensure(username="ada.admin", password="x" * 20, role=Role.ADMINISTRATOR)
    assert not can(user, P.DECIDE)
    user.groups.add(Group.objects.get_or_create(name=Role.ANALYST)[0])
    user = django_user_model.objects.get(pk=user.pk)  # roles are cached per user object
    assert can(user, P.DECIDE) and can(user, P.MANAGE_STAFF)
    assert list(users_with(P.TAKE_CASES)) == [user]

    user.is_active = False
    user.save()
    user = django_user_model.objects.get(pk=user.pk)
    assert not can(user, P.VIEW_AUDIT)
    assert list(users_with(P.TAKE_CASES)) == []


@pytest.mark.django_db
def test_a_user_without_a_role_may_do_nothing(outsider):
    assert not any(can(outsider, permission) for permission in Permission)
