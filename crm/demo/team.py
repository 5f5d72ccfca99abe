"""Demo users: one admin (password printed once, kept in var/) and one user per role."""

import secrets

from django.conf import settings
from django.contrib.auth.models import Group

from crm.core.roles import ADMIN, MANAGER, PROGRAM_STAFF
from crm.models import User

DEMO_TEAM = [
    # username, first, last, role
    ("amina", "Amina", "Diallo", PROGRAM_STAFF),
    ("lucas", "Lucas", "Moreno", PROGRAM_STAFF),
    ("sofia", "Sofia", "Keller", PROGRAM_STAFF),
    ("priya", "Priya", "Raman", MANAGER),
    ("jon", "Jon", "Okafor", MANAGER),
]

CREDENTIALS_FILE = "demo-login.txt"


def _credentials_path():
    return settings.VAR_DIR / CREDENTIALS_FILE


def print_login(stdout):
    path = _credentials_path()
    if path.exists():
        stdout.write(path.read_text().strip())


def seed(*, scale, stdout):
    groups = {
        group.name: group
        for group in Group.objects.filter(name__in=[ADMIN, MANAGER, PROGRAM_STAFF])
    }
    if not User.objects.filter(username="admin").exists():
        password = secrets.token_urlsafe(12)
        admin = User.objects.create_superuser(
            "admin", "admin@example.org", password, first_name="Demo", last_name="Admin"
        )
        admin.groups.add(groups[ADMIN])
        # The demo team shares the admin's demo password so every role can be tried.
        for username, first, last, role in DEMO_TEAM:
            user = User.objects.create_user(
                username, f"{username}@example.org", password, first_name=first, last_name=last
            )
            user.groups.add(groups[role])
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        _credentials_path().write_text(
            "Demo login: http://127.0.0.1:8000/  user: admin  password: "
            f"{password}\n(staff: amina, lucas, sofia; managers: priya, jon; same password)\n"
        )
    print_login(stdout)
