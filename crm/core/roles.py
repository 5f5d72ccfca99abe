"""The three roles, as groups, and the permissions each one gets.

Groups are created by a data migration; their permissions are (re)assigned after every
``migrate`` so a model added later is covered without another migration.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

PROGRAM_STAFF = "Program staff"
MANAGER = "Manager"
ADMIN = "Admin"
ROLES = (PROGRAM_STAFF, MANAGER, ADMIN)

# The apps that hold MMC's own records.
DOMAIN_APPS = ("cities", "engagements", "pledges", "outreach")
# Records staff keep day to day; outreach (campaigns, reminders) is read-only for them.
STAFF_EDITABLE_APPS = ("cities", "engagements", "pledges")

STAFF_EXTRA = ("crm.import_records",)
MANAGER_EXTRA = (
    "crm.view_dashboard",
    "crm.export_records",
    "crm.import_records",
    "crm.rollback_import",
)


def _codenames(perms):
    q = Q(pk__in=[])
    for perm in perms:
        app_label, codename = perm.split(".")
        q |= Q(content_type__app_label=app_label, codename=codename)
    return q


def permissions_for(role):
    """The queryset of permissions a role grants."""
    historical = Q(content_type__model__startswith="historical")
    if role == ADMIN:
        return Permission.objects.all()
    staff = (
        Q(content_type__app_label__in=STAFF_EDITABLE_APPS)
        & Q(codename__regex=r"^(view|add|change)_")
        & ~historical
    ) | (Q(content_type__app_label__in=DOMAIN_APPS) & Q(codename__startswith="view_") & ~historical)
    if role == PROGRAM_STAFF:
        return Permission.objects.filter(staff | _codenames(STAFF_EXTRA))
    if role == MANAGER:
        manager = Q(content_type__app_label__in=DOMAIN_APPS) & ~historical
        return Permission.objects.filter(staff | manager | _codenames(MANAGER_EXTRA))
    raise ValueError(f"Unknown role: {role}")


def sync_role_permissions(**kwargs):
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions_for(role))
