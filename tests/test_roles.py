import pytest

from crm.core.roles import ADMIN, MANAGER, PROGRAM_STAFF

from .conftest import user_with_role

# (permission, staff, manager, admin)
MATRIX = [
    ("cities.view_city", True, True, True),
    ("cities.add_city", True, True, True),
    ("cities.change_contact", True, True, True),
    ("cities.delete_city", False, True, True),
    ("engagements.add_engagement", True, True, True),
    ("engagements.delete_engagement", False, True, True),
    ("engagements.change_tarequest", True, True, True),
    ("pledges.change_pledge", True, True, True),
    ("pledges.delete_pledge", False, True, True),
    ("crm.import_records", True, True, True),
    ("crm.export_records", False, True, True),
    ("crm.view_dashboard", False, True, True),
    ("crm.rollback_import", False, True, True),
    ("crm.add_user", False, False, True),
    ("crm.change_user", False, False, True),
    ("auth.change_group", False, False, True),
]


@pytest.mark.parametrize(("perm", "staff", "manager", "admin"), MATRIX)
def test_each_role_gets_exactly_its_rights(db, perm, staff, manager, admin):
    for role, expected in ((PROGRAM_STAFF, staff), (MANAGER, manager), (ADMIN, admin)):
        user = user_with_role(role, username=f"u-{role}")
        assert user.has_perm(perm) is expected, f"{role} / {perm}"


def test_a_user_without_a_role_can_do_nothing(db):
    from .factories import UserFactory

    user = UserFactory()
    assert not user.has_perm("cities.view_city")
    assert not user.has_perm("engagements.add_engagement")


def test_history_tables_are_not_editable_by_staff(db):
    user = user_with_role(PROGRAM_STAFF)
    assert not user.has_perm("cities.change_historicalcity")
